package watch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/state"
)

func openStore(t *testing.T, path string) detect.Store {
	t.Helper()
	db, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return StateStore(db)
}

func rules(alerts []detect.Alert) []string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.Rule+"/"+a.EventID)
	}
	return out
}

func TestDeduperDropsRepeatsWithinWindowAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	first := NewDeduper(openStore(t, path), time.Hour)
	a := testAlert("KW-CT-ROOT", "alice", t0)
	again := a
	again.EventID = "ev-again" // a new event, the same red flag
	got, err := first.Filter(context.Background(), []detect.Alert{a, again})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"KW-CT-ROOT/ev-alice"}, rules(got)); diff != "" {
		t.Errorf("first run (-want +got):\n%s", diff)
	}

	// A second process (or Lambda invocation) on the same state.
	second := NewDeduper(openStore(t, path), time.Hour)
	later := func(d time.Duration, id string) detect.Alert {
		x := a
		x.EventTime, x.EventID = t0.Add(d), id
		return x
	}
	otherKey := testAlert("KW-CT-ROOT", "bob", t0)
	otherResource := a
	otherResource.EventID, otherResource.Details = "ev-res", map[string]any{"resource": "arn:aws:iam::123456789012:user/eve"}
	got, err = second.Filter(context.Background(), []detect.Alert{
		later(30*time.Minute, "ev-30m"),    // within the window: dropped
		later(-30*time.Minute, "ev-early"), // out of order, still within: dropped
		otherKey,                           // another access key: kept
		otherResource,                      // another resource: kept
		later(61*time.Minute, "ev-61m"),    // window over: kept, opens a new one
		later(90*time.Minute, "ev-90m"),    // within the new window: dropped
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"KW-CT-ROOT/ev-bob", "KW-CT-ROOT/ev-res", "KW-CT-ROOT/ev-61m"}
	if diff := cmp.Diff(want, rules(got)); diff != "" {
		t.Errorf("after restart (-want +got):\n%s", diff)
	}
}

func TestDeduperForgetLetsUndeliveredAlertsThrough(t *testing.T) {
	d := NewDeduper(mapStore{}, 0)
	a := testAlert("KW-CT-ROOT", "alice", t0)
	if got, _ := d.Filter(context.Background(), []detect.Alert{a}); len(got) != 1 {
		t.Fatalf("first Filter kept %d, want 1", len(got))
	}
	if err := d.Forget(context.Background(), []detect.Alert{a}); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Filter(context.Background(), []detect.Alert{a}); len(got) != 1 {
		t.Errorf("after Forget Filter kept %d, want 1", len(got))
	}
}

func TestDeduperUsesClockForAlertsWithoutEventTime(t *testing.T) {
	now := t0
	d := NewDeduper(mapStore{}, time.Hour)
	d.Now = func() time.Time { return now }
	a := testAlert("KW-SES-VOLUME", "alice", time.Time{})
	for i, tc := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {10 * time.Minute, 0}, {2 * time.Hour, 1}} {
		now = now.Add(tc.advance)
		got, err := d.Filter(context.Background(), []detect.Alert{a})
		if err != nil || len(got) != tc.want {
			t.Errorf("step %d: kept %d, %v; want %d", i, len(got), err, tc.want)
		}
	}
}

func TestDedupKeyDistinguishesTuples(t *testing.T) {
	a := testAlert("R", "alice", t0)
	b := a
	b.AccessKeyID, b.Principal = a.AccessKeyID+a.Principal[:1], a.Principal[1:] // same concatenation
	if DedupKey(a) == DedupKey(b) {
		t.Error("keys collide when fields shift between parts")
	}
}

// mapStore is an in-memory detect.Store.
type mapStore map[string][]byte

func (m mapStore) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	v, ok := m[ns+"\x00"+key]
	return v, ok, nil
}

func (m mapStore) Put(ctx context.Context, ns, key string, v []byte) error {
	m[ns+"\x00"+key] = v
	return nil
}

func TestPruneDedupForgetsOnlyOldMarks(t *testing.T) {
	ctx := context.Background()
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := NewDeduper(StateStore(db), time.Hour)
	a := testAlert("KW-CT-ROOT", "alice", t0)
	if got, err := d.Filter(context.Background(), []detect.Alert{a}); err != nil || len(got) != 1 {
		t.Fatalf("first Filter = %v, %v; want the alert", rules(got), err)
	}
	if n, err := pruneDedup(ctx, StateStore(db), time.Now().Add(-DedupKeep)); err != nil || n != 0 {
		t.Fatalf("pruning marks older than a week removed %d (%v), want 0", n, err)
	}
	if got, _ := d.Filter(context.Background(), []detect.Alert{a}); len(got) != 0 {
		t.Fatalf("after a prune of old marks the repeat went through: %v", rules(got))
	}
	if n, err := pruneDedup(ctx, StateStore(db), time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("pruning every mark removed %d (%v), want 1", n, err)
	}
	if got, _ := d.Filter(context.Background(), []detect.Alert{a}); len(got) != 1 {
		t.Errorf("after its mark was pruned the alert was still silenced: %v", rules(got))
	}
}
