package watch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/detect"
)

// fakeSleep records the waits a sink asks for instead of waiting.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	return ctx.Err()
}

// recorder is a webhook endpoint that answers with the scripted statuses
// (then 200) and keeps every request.
type recorder struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header // sent with every scripted answer
	bodies   [][]byte
	headers  []http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, body)
	r.headers = append(r.headers, req.Header.Clone())
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
		for k, v := range r.header {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, strings.Repeat("x", 1<<20)) // a large body must not be read whole
}

func newTestSink(t *testing.T, spec string, rec *recorder, headers string) (Sink, *fakeSleep, string) {
	t.Helper()
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	fs := &fakeSleep{}
	url := srv.URL + "/services/T000/B000/SECRETPATH"
	s, err := ParseSink(spec+":"+url, SinkEnv{HTTP: srv.Client(), Sleep: fs.sleep,
		Getenv: func(k string) string {
			if k == "KEYWARDEN_WEBHOOK_HEADERS" {
				return headers
			}
			return ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s, fs, url
}

func TestWebhookPostsAlertArrayWithHeaders(t *testing.T) {
	rec := &recorder{}
	s, _, _ := newTestSink(t, "webhook", rec, "Authorization: Bearer tok; X-Team: sec")
	alerts := []detect.Alert{testAlert("KW-CT-IAM-CREATE-USER", "alice", t0), testAlert("KW-CT-ROOT", "bob", t0)}
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	if len(rec.bodies) != 1 {
		t.Fatalf("got %d requests, want 1", len(rec.bodies))
	}
	var got []json.RawMessage
	if err := json.Unmarshal(rec.bodies[0], &got); err != nil || len(got) != 2 {
		t.Fatalf("body is not a JSON array of 2 alerts: %v: %.200s", err, rec.bodies[0])
	}
	checkAlertJSON(t, got[0], alerts[0])
	h := rec.headers[0]
	for k, want := range map[string]string{"Authorization": "Bearer tok", "X-Team": "sec", "Content-Type": "application/json"} {
		if h.Get(k) != want {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), want)
		}
	}
}

func TestWebhookRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		statuses  []int
		header    http.Header
		wantErr   bool
		wantCalls int
		wantWaits []time.Duration
	}{
		{name: "503 then success backs off", statuses: []int{503, 503}, wantCalls: 3,
			wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "429 honours Retry-After seconds", statuses: []int{429}, header: http.Header{"Retry-After": {"7"}},
			wantCalls: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "huge Retry-After is capped", statuses: []int{429}, header: http.Header{"Retry-After": {"999999999"}},
			wantCalls: 2, wantWaits: []time.Duration{retryAfterMax}},
		{name: "gives up after the last attempt", statuses: []int{500, 502, 503, 504, 500}, wantErr: true,
			wantCalls: httpAttempts, wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "client error is not retried", statuses: []int{400}, wantErr: true, wantCalls: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{statuses: tc.statuses, header: tc.header}
			s, fs, _ := newTestSink(t, "webhook", rec, "")
			err := s.Send(context.Background(), []detect.Alert{testAlert("KW-CT-ROOT", "alice", t0)})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Send = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "SECRETPATH") {
				t.Errorf("error shows the webhook URL's path: %v", err)
			}
			if len(rec.bodies) != tc.wantCalls {
				t.Errorf("got %d requests, want %d", len(rec.bodies), tc.wantCalls)
			}
			if diff := cmp.Diff(tc.wantWaits, fs.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if got := retryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now); got != 90*time.Second {
		t.Errorf("retryAfter(date) = %v, want 90s", got)
	}
	for _, v := range []string{"", "soon", "-5", now.Add(-time.Hour).Format(http.TimeFormat)} {
		if got := retryAfter(v, now); got != 0 {
			t.Errorf("retryAfter(%q) = %v, want 0 (use our own backoff)", v, got)
		}
	}
}

func TestWebhookRefusesRedirectToAnotherHost(t *testing.T) {
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	fs := &fakeSleep{}
	s, err := ParseSink("webhook:"+redirector.URL+"/hook", SinkEnv{HTTP: redirector.Client(), Sleep: fs.sleep})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), []detect.Alert{testAlert("KW-CT-ROOT", "alice", t0)}); err == nil {
		t.Fatal("Send succeeded through a cross-host redirect")
	}
	if len(other.bodies) != 0 {
		t.Errorf("the other host received %d requests", len(other.bodies))
	}
}

func TestWebhookConnectionErrorHidesURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/SECRETPATH"
	srv.Close() // nothing listens any more
	fs := &fakeSleep{}
	s, err := ParseSink("webhook:"+url, SinkEnv{Sleep: fs.sleep})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), []detect.Alert{testAlert("KW-CT-ROOT", "alice", t0)})
	if err == nil || strings.Contains(err.Error(), "SECRETPATH") {
		t.Fatalf("Send = %v, want an error without the URL path", err)
	}
	if len(fs.waits) != httpAttempts-1 {
		t.Errorf("retried %d times, want %d", len(fs.waits), httpAttempts-1)
	}
}
