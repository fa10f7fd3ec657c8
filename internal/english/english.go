// Package english says counts of things as a person would: "1 finding",
// "2 findings". Every verb's summaries and warnings use it, so that none says
// "1 events".
package english

import "strconv"

// Count is n and noun, the noun plural (a trailing s) unless n is 1.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
