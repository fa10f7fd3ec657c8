// Package severity orders how bad a finding or alert is, and parses the
// --fail-on threshold every verb takes.
package severity

import (
	"fmt"
	"strings"
)

// Level is a severity; higher is worse. The zero value is Info.
type Level int

const (
	Info Level = iota
	Low
	Medium
	High
	Critical
)

var names = [...]string{"info", "low", "medium", "high", "critical"}

func (l Level) String() string {
	if l < Info || l > Critical {
		return fmt.Sprintf("severity(%d)", int(l))
	}
	return names[l]
}

// MarshalText writes the lower-case name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Parse reads a severity name, case-insensitively.
func Parse(s string) (Level, error) {
	for i, n := range names {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Level(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(names[:], ", "))
}
