package watch

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/severity"
)

// memSink keeps what it is sent; fail makes the next Send fail.
type memSink struct {
	got    []detect.Alert
	fail   bool
	closed bool
}

func (m *memSink) Send(ctx context.Context, alerts []detect.Alert) error {
	if m.fail {
		m.fail = false
		return errors.New("sink down")
	}
	m.got = append(m.got, alerts...)
	return nil
}

func (m *memSink) Close() error { m.closed = true; return nil }

func burst(rule string, n int, sev severity.Level) []detect.Alert {
	var out []detect.Alert
	for i := range n {
		a := testAlert(rule, fmt.Sprint(rule, i), t0)
		a.Severity = sev
		out = append(out, a)
	}
	return out
}

func TestRateLimitSummarisesAlertsOverTheLimit(t *testing.T) {
	now := t0
	inner := &memSink{}
	r := RateLimit(inner, 3, func() time.Time { return now })
	ctx := context.Background()
	if err := r.Send(ctx, append(burst("KW-A", 4, severity.Medium), burst("KW-B", 2, severity.Critical)...)); err != nil {
		t.Fatal(err)
	}
	if len(inner.got) != 3 {
		t.Fatalf("sink got %d alerts in the first minute, want 3", len(inner.got))
	}
	now = now.Add(30 * time.Second)
	if err := r.Flush(ctx); err != nil || len(inner.got) != 3 {
		t.Fatalf("Flush inside the minute sent %d alerts (%v), want none", len(inner.got)-3, err)
	}
	now = now.Add(31 * time.Second)
	if err := r.Send(ctx, burst("KW-C", 1, severity.Low)); err != nil {
		t.Fatal(err)
	}
	if len(inner.got) != 5 {
		t.Fatalf("sink got %d alerts, want 3 + summary + 1", len(inner.got))
	}
	sum := inner.got[3]
	want := detect.Alert{Rule: SuppressedRule, Severity: severity.Critical,
		Title: "3 more alerts suppressed (rate limit 3 per minute)", EventTime: now,
		Details: map[string]any{"suppressed": 3, "by_rule": map[string]int{"KW-A": 1, "KW-B": 2},
			"window_start": t0.Format(time.RFC3339)}}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if inner.got[4].Rule != "KW-C" {
		t.Errorf("after the summary got %s, want KW-C", inner.got[4].Rule)
	}
}

func TestRateLimitFailedSendKeepsBudgetAndSummary(t *testing.T) {
	now := t0
	inner := &memSink{}
	r := RateLimit(inner, 2, func() time.Time { return now })
	ctx := context.Background()
	if err := r.Send(ctx, burst("KW-A", 3, severity.High)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	inner.fail = true
	batch := burst("KW-B", 2, severity.High)
	if err := r.Send(ctx, batch); err == nil {
		t.Fatal("Send hid the sink's failure")
	}
	if err := r.Send(ctx, batch); err != nil { // the caller's retry
		t.Fatal(err)
	}
	want := []string{"KW-A", "KW-A", SuppressedRule, "KW-B", "KW-B"}
	var got []string
	for _, a := range inner.got {
		got = append(got, a.Rule)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

func TestRateLimitCloseFlushesPendingSummary(t *testing.T) {
	inner := &memSink{}
	r := RateLimit(inner, 1, func() time.Time { return t0 })
	if err := r.Send(context.Background(), burst("KW-A", 3, severity.High)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(inner.got) != 2 || inner.got[1].Rule != SuppressedRule || !inner.closed {
		t.Errorf("after Close sink got %v (closed %v), want 1 alert + summary and closed", rules(inner.got), inner.closed)
	}
}
