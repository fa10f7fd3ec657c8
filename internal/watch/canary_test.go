package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/detect"
)

var (
	canaryKey  = awstest.FakeKeyID("canary", 111122223333)
	testCanary = canary.Canary{Name: "billing-export", Account: "111122223333", User: "svc-billing",
		ARN: "arn:aws:iam::111122223333:user/svc-billing", AccessKeyID: canaryKey,
		Placements: []canary.Placement{{Format: "dotenv", Path: "infra/.env"}}}
)

// canaryLog writes a CloudTrail log file with one denied call of user's key.
func canaryLog(t testing.TB, dir, user, key string, at time.Time) string {
	t.Helper()
	rec := fmt.Sprintf(`{"eventVersion":"1.09","eventID":"ev-%d","eventTime":%q,"eventSource":"secretsmanager.amazonaws.com",
		"eventName":"ListSecrets","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.9","userAgent":"aws-cli/2.15.0",
		"errorCode":"AccessDenied","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","accountId":"111122223333",
		"userName":%q,"accessKeyId":%q,"arn":"arn:aws:iam::111122223333:user/%s"}}`,
		at.UnixNano(), at.UTC().Format(time.RFC3339), user, key, user)
	path := filepath.Join(dir, fmt.Sprintf("111122223333_CloudTrail_eu-west-1_%d_%s.json", at.UnixNano(), user))
	if err := os.WriteFile(path, []byte(`{"Records":[`+rec+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// canaryWatch is a one-shot watch of path with canaries, alerts to a webhook.
func canaryWatch(t testing.TB, path, url string, store detect.Store) (*Watch, *Pipeline) {
	t.Helper()
	p, err := NewPipeline(Config{Store: store, Sinks: []string{"webhook:" + url}, Canaries: canary.NewRegistry(testCanary)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &Watch{Pipeline: p, Store: store, Name: path, Source: NewSource(path, SourceEnv{})}, p
}

func TestCanaryEventInALogFileReachesTheWebhook(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	at := time.Now().Add(-time.Minute)
	dir := t.TempDir()
	path := canaryLog(t, dir, "svc-billing", canaryKey, at)
	canaryLog(t, dir, "alice", awstest.FakeKeyID("not-a-canary", 111122223333), at)
	store := &detect.MemStore{}
	w, _ := canaryWatch(t, dir, srv.URL, store)
	if err := w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []detect.Alert
	for _, b := range rec.bodies {
		var as []detect.Alert
		if err := json.Unmarshal(b, &as); err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if strings.HasPrefix(a.Rule, "KW-CT-CANARY") {
				got = append(got, a)
			}
		}
	}
	if len(got) != 1 || got[0].AccessKeyID != canaryKey || got[0].Details["planted"] != "dotenv:infra/.env" ||
		got[0].Details["error_code"] != "AccessDenied" {
		t.Fatalf("canary alerts from %s: %+v; want one, of the canary's denied call", path, got)
	}
	if s, ok, _ := canary.LastSeen(context.Background(), store, canaryKey); !ok || !s.At.Equal(at.Truncate(time.Second)) {
		t.Errorf("seen %+v, %v; want the event recorded for canary check", s, ok)
	}
}

// TestCanaryAlertsPassRateLimitsAndDedupAtMostAnHour: --rate-limit never
// holds a canary alert back, and --dedup longer than an hour silences a
// canary's repeats for an hour only.
func TestCanaryAlertsPassRateLimitsAndDedupAtMostAnHour(t *testing.T) {
	sink := &memSink{}
	rl := RateLimit(sink, 1, func() time.Time { return t0 })
	alerts := burst("KW-CT-ROOT", 2, 4)
	for i := range 3 {
		a := testAlert(detect.CanaryRule.ID, fmt.Sprint("c", i), t0)
		alerts = append(alerts, a)
	}
	if err := rl.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	canaries := 0
	for _, a := range sink.got {
		if a.Rule == detect.CanaryRule.ID {
			canaries++
		}
	}
	if canaries != 3 || len(sink.got) != 4 {
		t.Errorf("rate limit 1/min: %d alerts sent, %d canary; want the first alert and every canary one", len(sink.got), canaries)
	}

	d := NewDeduper(&detect.MemStore{}, 24*time.Hour)
	ctx := context.Background()
	for i, at := range []time.Time{t0, t0.Add(30 * time.Minute), t0.Add(61 * time.Minute)} {
		c, other := testAlert(detect.CanaryRule.ID, "c", at), testAlert("KW-CT-ROOT", "r", at)
		fresh, err := d.Filter(ctx, []detect.Alert{c, other})
		if err != nil {
			t.Fatal(err)
		}
		wantCanary, wantOther := i != 1, i == 0
		if has(fresh, detect.CanaryRule.ID) != wantCanary || has(fresh, "KW-CT-ROOT") != wantOther {
			t.Errorf("at +%v: %v; want canary %v, other %v", at.Sub(t0), fresh, wantCanary, wantOther)
		}
	}
}

func has(as []detect.Alert, rule string) bool {
	for _, a := range as {
		if a.Rule == rule {
			return true
		}
	}
	return false
}

// lastUsed is a LastUsedReader over fixed dates.
type lastUsed map[string]canary.LastUse

func (l lastUsed) LastUsed(_ context.Context, key string) (canary.LastUse, error) {
	u, ok := l[key]
	if !ok {
		return canary.LastUse{}, errors.New("NoSuchEntity")
	}
	return u, nil
}

// TestFollowRunsTheCanaryCheck: a poll raises the unlogged use and saves
// the baseline only once the alert was delivered.
func TestFollowRunsTheCanaryCheck(t *testing.T) {
	used := t0.Add(-time.Hour)
	var saved []canary.Canary
	poller := &CanaryPoller{Check: canary.Check{IAM: lastUsed{canaryKey: {At: used, Service: "sts", Region: "us-east-1"}},
		Seen: &detect.MemStore{}, Now: func() time.Time { return t0 }},
		Load: func(context.Context) ([]canary.Canary, error) { return []canary.Canary{testCanary}, nil },
		Save: func(_ context.Context, cs []canary.Canary) error { saved = cs; return nil }}
	sink := &memSink{fail: true}
	p := &Pipeline{Detector: detect.NewEngine(), Sinks: []Sink{sink}}
	w := &Watch{Pipeline: p, Store: &detect.MemStore{}, Name: "t", Source: &trail{}, Canaries: poller}
	if err := w.Poll(context.Background()); err == nil || saved != nil {
		t.Fatalf("sink down: %v, saved %v; want the error and the baseline kept", err, saved)
	}
	if err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 1 || sink.got[0].Rule != "KW-CANARY-UNLOGGED" || sink.got[0].Details["canary"] != "billing-export" ||
		len(saved) != 1 || !saved[0].LastUsed.Equal(used) {
		t.Errorf("alerts %+v, saved %+v; want one unlogged alert, then the baseline", sink.got, saved)
	}
}

// BenchmarkCanaryEventToWebhook is the time from a log file holding a
// canary's event reaching watch (file source) to its alert leaving the
// webhook sink (an HTTP server on loopback).
func BenchmarkCanaryEventToWebhook(b *testing.B) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		path := canaryLog(b, dir, "svc-billing", canaryKey, t0.Add(time.Duration(i)*2*time.Hour)) // past the dedup window
		w, p := canaryWatch(b, path, srv.URL, &detect.MemStore{})
		b.StartTimer()
		if err := w.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		if _, n := p.Worst(); n == 0 {
			b.Fatal("no alert")
		}
		os.Remove(path)
	}
}
