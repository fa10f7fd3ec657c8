// Package span reads the lengths of time keywarden's flags take: a whole
// number of hours, days or weeks (36h, 90d, 12w; a bare number is days), the
// one spelling of --max-key-age, --since, --grace, --as-of +30d and the
// rotations file's max_age.
package span

import (
	"fmt"
	"strconv"
	"time"
)

const day = 24 * time.Hour

// MaxDays bounds a span (about 270 years): far past any use, well inside
// time.Duration.
const MaxDays = 100_000

// Parse reads a span; it may be zero ("0", "0d").
func Parse(s string) (time.Duration, error) {
	num, unit := s, day
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'h':
			num, unit = s[:n-1], time.Hour
		case 'd':
			num = s[:n-1]
		case 'w':
			num, unit = s[:n-1], 7*day
		}
	}
	n, err := strconv.Atoi(num)
	switch {
	case err != nil || n < 0 || num[0] == '+':
		return 0, fmt.Errorf("want a whole number with a unit h, d or w (e.g. 90d)")
	case int64(n) > int64(MaxDays*day/unit): // compared before multiplying: no overflow
		return 0, fmt.Errorf("longer than %d days", MaxDays)
	}
	return time.Duration(n) * unit, nil
}
