package auditaws

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
)

func TestMatchKeys(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	used := audit.At(t0.Add(24 * time.Hour))
	slot := func(n int, created time.Time, st audit.KeyStatus, last audit.Date) audit.Key {
		return audit.Key{Slot: n, Created: audit.At(created), Status: st, LastUsed: last}
	}
	tests := []struct {
		name     string
		report   []audit.Key
		listed   []listedKey
		newUser  bool
		wantIDs  []string
		wantWarn int
	}{
		{"ids matched by creation time", []audit.Key{slot(1, t0, audit.KeyActive, used), slot(2, t1, audit.KeyActive, audit.Never())},
			[]listedKey{{"B", audit.KeyActive, t1}, {"A", audit.KeyActive, t0.Add(300 * time.Millisecond).Truncate(time.Second)}},
			false, []string{"A", "B"}, 0},
		{"same second told apart by status", []audit.Key{slot(1, t0, audit.KeyActive, used), slot(2, t0, audit.KeyInactive, audit.Never())},
			[]listedKey{{"I", audit.KeyInactive, t0}, {"A", audit.KeyActive, t0}},
			false, []string{"A", "I"}, 0},
		{"same second and same facts: either assignment is true", []audit.Key{slot(1, t0, audit.KeyActive, audit.Never()), slot(2, t0, audit.KeyActive, audit.Never())},
			[]listedKey{{"A", audit.KeyActive, t0}, {"B", audit.KeyActive, t0}},
			false, []string{"A", "B"}, 0},
		{"same second, different use: ids stay unknown", []audit.Key{slot(1, t0, audit.KeyActive, used), slot(2, t0, audit.KeyActive, audit.Never())},
			[]listedKey{{"A", audit.KeyActive, t0}, {"B", audit.KeyActive, t0}},
			false, []string{"", ""}, 2},
		{"status changed since the report: listed status wins", []audit.Key{slot(1, t0, audit.KeyActive, used)},
			[]listedKey{{"A", audit.KeyInactive, t0}},
			false, []string{"A"}, 0},
		{"key deleted since the report keeps no id", []audit.Key{slot(1, t0, audit.KeyActive, used)},
			nil, false, []string{""}, 1},
		{"key created since the report is added without a slot", []audit.Key{slot(1, t0, audit.KeyActive, used)},
			[]listedKey{{"A", audit.KeyActive, t0}, {"N", audit.KeyActive, t1}},
			false, []string{"A", "N"}, 1},
		{"user newer than the report gets its keys quietly", nil,
			[]listedKey{{"N", audit.KeyActive, t1}}, true, []string{"N"}, 0},
		{"slot without creation date is not guessed", []audit.Key{{Slot: 1, Status: audit.KeyActive}},
			[]listedKey{{"A", audit.KeyActive, t0}}, false, []string{""}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, warnings := matchKeys(tt.report, tt.listed, tt.newUser)
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if len(warnings) != tt.wantWarn {
				t.Errorf("warnings = %q, want %d", warnings, tt.wantWarn)
			}
			for _, k := range keys {
				for _, lk := range tt.listed {
					if k.ID == lk.id && k.Status != lk.status {
						t.Errorf("key %s status %v, want the listed %v", k.ID, k.Status, lk.status)
					}
				}
			}
		})
	}
}
