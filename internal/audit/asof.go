package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxOffsetDays bounds --as-of offsets (about 270 years): far past any use,
// well inside time.Duration.
const maxOffsetDays = 100_000

// ParseAsOf reads an --as-of value: empty means now; an offset from now such
// as +30d, -2w, +12h (units h, d, w); a date 2027-01-01 (midnight UTC); or an
// RFC 3339 time 2027-01-01T09:00:00Z.
func ParseAsOf(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now, nil
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := parseOffset(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("parse --as-of %q: %w", s, err)
		}
		if s[0] == '-' {
			d = -d
		}
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("parse --as-of %q: want a date (2027-01-01), an RFC 3339 time "+
		"(2027-01-01T09:00:00Z) or an offset from now (+30d, -2w, +12h)", s)
}

func parseOffset(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("want a number and a unit (h, d, w)")
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': day, 'w': 7 * day}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("unknown unit %q (want h, d or w)", s[len(s)-1:])
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number", s[:len(s)-1])
	}
	if int64(n) > int64(maxOffsetDays*day/unit) { // compare before multiplying: no overflow
		return 0, fmt.Errorf("offset larger than %d days", maxOffsetDays)
	}
	return time.Duration(n) * unit, nil
}
