// Package bounded reads an input whole up to a bound and refuses more, so a
// file, a pipe or /dev/zero never costs more memory than its reader allows.
package bounded

import (
	"fmt"
	"io"
)

// TooLargeError is an input past its bound: what it was meant to be, and the
// bound.
type TooLargeError struct {
	Max  int64
	Want string // "a dotenv file"; "" says nothing more
}

func (e *TooLargeError) Error() string {
	s := "larger than " + size(e.Max)
	if e.Want != "" {
		s += ", not " + e.Want
	}
	return s
}

// ReadAll reads r to its end, or stops one byte past max and returns a
// *TooLargeError naming want: it never holds more than max+1 bytes.
func ReadAll(r io.Reader, max int64, want string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Max: max, Want: want}
	}
	return data, nil
}

// size is n as a person reads a bound: MiB when it is a whole number of
// them.
func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
