package cli

import (
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/span"
)

// parseSpan served audit's own span flags, which the shared typed flags
// (addSpan) replaced; rotate still calls it. Delete the file once nothing
// does.
//
// It reads a threshold such as 90d, 12w or 36h (see internal/span); it must
// be positive.
func parseSpan(flag, s string) (time.Duration, error) {
	d, err := span.Parse(s)
	if err != nil || d == 0 {
		return 0, fmt.Errorf("%s %q: want a positive whole number with a unit h, d or w (e.g. 90d)", flag, s)
	}
	return d, nil
}
