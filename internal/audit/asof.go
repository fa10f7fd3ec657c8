package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/span"
)

// ParseAsOf reads an --as-of value: empty means now; an offset from now such
// as +30d, -2w, +12h (a span: see internal/span); a date 2027-01-01 (midnight UTC); or an
// RFC 3339 time 2027-01-01T09:00:00Z.
func ParseAsOf(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now, nil
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := span.Parse(s[1:])
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
