// Package english says things as a person would: counts ("1 finding", "2
// findings", never "1 events") and paths under the home directory
// ("~/.aws/credentials"). Every verb's summaries, warnings and errors use it.
package english

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Count is n and noun, the noun plural (a trailing s) unless n is 1.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// HomePath is path written as ~/... when it is under the home directory,
// else path itself.
func HomePath(path string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return path
	}
	if rel, err := filepath.Rel(home, path); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return "~/" + filepath.ToSlash(rel)
	}
	return path
}
