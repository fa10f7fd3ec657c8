package span

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	good := map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "90": 90 * 24 * time.Hour, "12w": 12 * 7 * 24 * time.Hour,
		"36h": 36 * time.Hour, "0": 0, "0d": 0, "100000d": 100_000 * 24 * time.Hour,
	}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "ninety", "-3d", "+3d", "1.5d", "3x", "3 d", "100001d",
		"2400001h", "9223372036854775807h", "99999999999999999999d"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v; want an error", in, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"90d", "12w", "36h", "0", "-1d", "1e9h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err == nil && (d < 0 || d > MaxDays*day) {
			t.Fatalf("Parse(%q) = %v: outside [0, %d days]", s, d, MaxDays)
		}
	})
}
