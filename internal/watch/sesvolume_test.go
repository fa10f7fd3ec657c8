package watch

import (
	"testing"
	"time"
)

func TestSESSpike(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	usual := func() []SendPoint {
		var ps []SendPoint
		for h := 2; h < 14*24; h++ { // two weeks of 40 mails an hour, in 15-minute buckets
			for q := 0; q < 4; q++ {
				ps = append(ps, SendPoint{At: now.Add(-time.Duration(h)*time.Hour + time.Duration(q)*15*time.Minute), Attempts: 10})
			}
		}
		return ps
	}
	tests := []struct {
		name     string
		lastHour int64
		floor    int64
		want     bool
	}{
		{"a usual hour", 40, 100, false},
		{"busy but under five times the usual", 180, 100, false},
		{"a stolen key's hour", 2100, 100, true},
		{"over the usual but under the floor", 300, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := append(usual(), SendPoint{At: now.Add(-10 * time.Minute), Attempts: tt.lastHour})
			last, median, spike := sesSpike(ps, now, tt.floor)
			if last != tt.lastHour || median != 40 || spike != tt.want {
				t.Errorf("got last %d median %d spike %v; want %d, 40, %v", last, median, spike, tt.lastHour, tt.want)
			}
		})
	}
	// No history (a new account, or moto's single cumulative point): the floor decides.
	if _, _, spike := sesSpike([]SendPoint{{At: now, Attempts: 150}}, now, 100); !spike {
		t.Error("with no history, 150 over a floor of 100 is a spike")
	}
}
