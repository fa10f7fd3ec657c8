package rulelang

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/detect"
)

// fired runs events (key, ip, time) through d and returns the times of the
// events that raised an alert.
func fired(t *testing.T, d *Detector, events [][3]string) []string {
	t.Helper()
	var got []string
	for _, ev := range events {
		alerts, err := d.Observe(context.Background(), event(t, sesSend(ev[0], ev[1], ev[2])))
		if err != nil {
			t.Fatal(err)
		}
		for range alerts {
			got = append(got, ev[0][:8]+"@"+ev[2][11:16])
		}
	}
	return got
}

func TestRuleThresholds(t *testing.T) {
	a := awstest.FakeKeyID("a", 123456789012)
	b := awstest.FakeKeyID("b", 123456789012)
	countRule := "rules:\n  - id: C\n    match: {eventSource: ses.amazonaws.com}\n    threshold: {count: 3, window: 1h, by: userIdentity.accessKeyId}\n"
	distinctRule := "rules:\n  - id: D\n    match: {eventSource: ses.amazonaws.com}\n    threshold:\n      distinct: {field: sourceIPAddress, count: 3}\n      window: 1h\n      by: userIdentity.accessKeyId\n"
	at := func(k, ip, hm string) [3]string { return [3]string{k, ip, "2024-05-01T" + hm + ":00Z"} }
	tests := []struct {
		name   string
		rule   string
		events [][3]string
		want   []string
	}{
		{"count fires on the third match within the window", countRule,
			[][3]string{at(a, "1.1.1.1", "10:00"), at(a, "1.1.1.1", "10:20"), at(a, "1.1.1.1", "10:40")},
			[]string{a[:8] + "@10:40"}},
		{"groups count apart", countRule,
			[][3]string{at(a, "1.1.1.1", "10:00"), at(b, "1.1.1.1", "10:10"), at(a, "1.1.1.1", "10:20"), at(b, "1.1.1.1", "10:30")},
			nil},
		{"matches older than the window fall out", countRule,
			[][3]string{at(a, "1.1.1.1", "10:00"), at(a, "1.1.1.1", "10:50"), at(a, "1.1.1.1", "11:30"), at(a, "1.1.1.1", "11:40")},
			[]string{a[:8] + "@11:40"}},
		{"a fired group starts over", countRule,
			[][3]string{at(a, "", "10:00"), at(a, "", "10:01"), at(a, "", "10:02"), at(a, "", "10:03"), at(a, "", "10:04"), at(a, "", "10:05")},
			[]string{a[:8] + "@10:02", a[:8] + "@10:05"}},
		{"distinct counts values, not events", distinctRule,
			[][3]string{at(a, "1.1.1.1", "10:00"), at(a, "1.1.1.1", "10:05"), at(a, "2.2.2.2", "10:10"), at(a, "2.2.2.2", "10:15"), at(a, "3.3.3.3", "10:20")},
			[]string{a[:8] + "@10:20"}},
		{"distinct values outside the window are forgotten", distinctRule,
			[][3]string{at(a, "1.1.1.1", "10:00"), at(a, "2.2.2.2", "10:30"), at(a, "3.3.3.3", "11:05"), at(a, "4.4.4.4", "11:20")},
			[]string{a[:8] + "@11:20"}},
		{"distinct groups count apart", distinctRule,
			[][3]string{at(a, "1.1.1.1", "10:00"), at(b, "2.2.2.2", "10:10"), at(a, "3.3.3.3", "10:20")},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fired(t, NewDetector(mustRules(t, tt.rule), nil), tt.events)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("alerts (-want +got):\n%s", d)
			}
		})
	}
}

func TestRuleThresholdStateSurvivesRestart(t *testing.T) {
	a := awstest.FakeKeyID("a", 123456789012)
	rule := "rules:\n  - id: C\n    match: {eventSource: ses.amazonaws.com}\n    threshold: {count: 2, window: 1h}\n"
	store := &detect.MemStore{}
	first := fired(t, NewDetector(mustRules(t, rule), store), [][3]string{{a, "1.1.1.1", "2024-05-01T10:00:00Z"}})
	second := fired(t, NewDetector(mustRules(t, rule), store), [][3]string{{a, "1.1.1.1", "2024-05-01T10:30:00Z"}})
	if len(first) != 0 || len(second) != 1 {
		t.Errorf("first run alerts %v, second run %v; want none then one", first, second)
	}
}

// Threshold state written before the rule language left internal/detect
// is still read: its namespace is on disk.
func TestRuleThresholdStateKeepsItsNamespace(t *testing.T) {
	a := awstest.FakeKeyID("a", 123456789012)
	rule := "rules:\n  - id: C\n    match: {eventSource: ses.amazonaws.com}\n    threshold: {count: 2, window: 1h}\n"
	store := &detect.MemStore{}
	when := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if err := store.Put(context.Background(), "detect.userrules", "C\x00", []byte(fmt.Sprintf(`{"t":[%d]}`, when.UnixNano()))); err != nil {
		t.Fatal(err)
	}
	got := fired(t, NewDetector(mustRules(t, rule), store), [][3]string{{a, "1.1.1.1", "2024-05-01T10:30:00Z"}})
	if len(got) != 1 || store.Len() != 1 {
		t.Errorf("alerts %v with %d stored values; want the stored match to complete the threshold in place", got, store.Len())
	}
}
