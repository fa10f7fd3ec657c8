package cli

import (
	"fmt"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/span"
)

// What follows served scan's and audit's own flag parsing, which the shared
// typed flags (flags.go) replaced; other verbs still call it. Delete the
// file once none does.

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// parseSpan reads a threshold such as 90d, 12w or 36h (see internal/span);
// it must be positive.
func parseSpan(flag, s string) (time.Duration, error) {
	d, err := span.Parse(s)
	if err != nil || d == 0 {
		return 0, fmt.Errorf("%s %q: want a positive whole number with a unit h, d or w (e.g. 90d)", flag, s)
	}
	return d, nil
}
