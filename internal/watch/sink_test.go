package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// testAlert is an alert as a rule raises it; seed varies the key.
func testAlert(rule, seed string, at time.Time) detect.Alert {
	return detect.Alert{Rule: rule, Severity: severity.High, Title: "IAM user created",
		Technique: "T1136.003", EventID: "ev-" + seed, EventTime: at, EventSource: "iam.amazonaws.com",
		EventName: "CreateUser", AccountID: "123456789012", Region: "us-east-1",
		AccessKeyID: awstest.FakeKeyID(seed, 123456789012), Principal: "arn:aws:iam::123456789012:user/" + seed,
		SourceIP: "203.0.113.9", UserAgent: "aws-cli/2.15", Details: map[string]any{}}
}

func TestTextSinkWritesOneSafeLinePerAlert(t *testing.T) {
	var out bytes.Buffer
	s, err := ParseSink("text", SinkEnv{Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	a := testAlert("KW-CT-IAM-CREATE-USER", "alice", t0)
	hostile := testAlert("KW-CT-IAM-CREATE-USER", "bob", time.Time{})
	hostile.Principal = "arn:aws:iam::1:user/x\n\x1b[31mFAKE ALERT"
	if err := s.Send(context.Background(), []detect.Alert{a, hostile}); err != nil {
		t.Fatal(err)
	}
	want := "2024-05-01T12:00:00Z high KW-CT-IAM-CREATE-USER " + a.AccessKeyID +
		" arn:aws:iam::123456789012:user/alice IAM user created\n" +
		"- high KW-CT-IAM-CREATE-USER " + hostile.AccessKeyID + " arn:aws:iam::1:user/x__[31mFAKE_ALERT IAM user created\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("text output (-want +got):\n%s", diff)
	}
}

func TestJSONLSinkWritesDesignAlertJSON(t *testing.T) {
	a := testAlert("KW-CT-IAM-CREATE-USER", "alice", t0)
	t.Run("stdout", func(t *testing.T) {
		var out bytes.Buffer
		s, err := ParseSink("jsonl", SinkEnv{Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(context.Background(), []detect.Alert{a, a}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
		}
		checkAlertJSON(t, []byte(lines[0]), a)
	})
	t.Run("file appends", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "alerts.jsonl")
		if err := os.WriteFile(path, []byte("{\"rule\":\"earlier\"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s, err := ParseSink("jsonl:"+path, SinkEnv{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), []detect.Alert{a}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != 3 || lines[0] != `{"rule":"earlier"}` {
			t.Fatalf("file = %q, want the earlier line then two alerts", b)
		}
		checkAlertJSON(t, []byte(lines[2]), a)
	})
}

// checkAlertJSON asserts the alert's field names and values (docs/formats.md).
func checkAlertJSON(t *testing.T, line []byte, a detect.Alert) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("alert is not JSON: %v: %s", err, line)
	}
	want := map[string]any{"rule": a.Rule, "severity": "high", "title": a.Title, "technique": a.Technique,
		"event_id": a.EventID, "event_time": a.EventTime.Format(time.RFC3339), "event_source": a.EventSource,
		"event_name": a.EventName, "account_id": a.AccountID, "region": a.Region, "access_key_id": a.AccessKeyID,
		"principal": a.Principal, "source_ip": a.SourceIP, "user_agent": a.UserAgent, "details": map[string]any{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alert JSON (-want +got):\n%s", diff)
	}
}

func TestParseSinkRejectsBadSpecsWithoutEchoingURLs(t *testing.T) {
	for _, tc := range []struct{ name, spec, env string }{
		{"unknown kind", "pagerduty:https://hooks.example.com/T000/SECRETPATH", ""},
		{"text with argument", "text:foo", ""},
		{"webhook without URL", "webhook:", ""},
		{"webhook ftp", "webhook:ftp://example.com/x", ""},
		{"slack without host", "slack:https:///SECRETPATH", ""},
		{"sns not an ARN", "sns:my-topic", ""},
		{"bad header", "webhook:https://example.com/SECRETPATH", "Authorization Bearer SECRETVALUE"},
		{"header injection", "webhook:https://example.com/SECRETPATH", "X-A: b\r\nX-B: SECRETVALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := SinkEnv{Getenv: func(k string) string {
				if k == "KEYWARDEN_WEBHOOK_HEADERS" {
					return tc.env
				}
				return ""
			}}
			_, err := ParseSink(tc.spec, env)
			if !errors.Is(err, ErrBadSink) {
				t.Fatalf("ParseSink(%q) = %v, want ErrBadSink", tc.spec, err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error repeats a credential: %v", err)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	h, err := parseHeaders(" Authorization: Bearer abc:def ; X-Team: sec ;")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"Authorization": {"Bearer abc:def"}, "X-Team": {"sec"}}
	if diff := cmp.Diff(want, map[string][]string(h)); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"", "A: b", "A: b; C: d", ";;", "A:", ": b", "A b", "A: b\r\nC: d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHeaders(s)
		if err != nil {
			return
		}
		for k, vs := range h {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n\x00") {
					t.Fatalf("header %q: %q lets a line break through", k, v)
				}
			}
		}
	})
}

// --format json is one array of the alerts jsonl prints, whatever the
// batches; "[]" when there were none.
func TestFormatSinkJSONIsOneArrayOfTheJSONLAlerts(t *testing.T) {
	batches := [][]detect.Alert{
		{testAlert("KW-CT-IAM-CREATE-USER", "alice", t0), testAlert("KW-CT-ROOT", "bob", t0)},
		{testAlert("KW-CT-EVASION", "carol", t0)},
	}
	var arr, lines bytes.Buffer
	js, err := FormatSink("json", &arr)
	if err != nil {
		t.Fatal(err)
	}
	jl, err := FormatSink("jsonl", &lines)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := js.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if err := jl.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := js.Close(); err != nil {
		t.Fatal(err)
	}
	var got []json.RawMessage
	if err := json.Unmarshal(arr.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON array: %v\n%s", err, arr.String())
	}
	want := strings.Split(strings.TrimSpace(lines.String()), "\n")
	if len(got) != len(want) {
		t.Fatalf("array of %d alerts, want %d", len(got), len(want))
	}
	for i := range got {
		var compact bytes.Buffer
		if err := json.Compact(&compact, got[i]); err != nil || compact.String() != want[i] {
			t.Errorf("element %d = %s, want jsonl's %s", i, compact.String(), want[i])
		}
	}
	var empty bytes.Buffer
	s, _ := FormatSink("json", &empty)
	if err := s.Close(); err != nil || empty.String() != "[]\n" {
		t.Errorf("no alert: %q, %v; want []", empty.String(), err)
	}
	if _, err := FormatSink("yaml", &empty); !errors.Is(err, ErrBadSink) {
		t.Errorf("FormatSink(yaml) = %v", err)
	}
}
