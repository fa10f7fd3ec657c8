// Package gap names what a run could not read: a source and the reason. A
// run with gaps is incomplete (exit status 3); its reports list them under
// "incomplete" (SARIF: toolExecutionNotifications).
package gap

import (
	"errors"
	"sync"
)

// Gap is one piece of input a run could not read, and why.
type Gap struct {
	Source string `json:"source"` // as the user would name it: a path, an archive member (a.zip!b), a URL, a region
	Reason string `json:"reason"`
}

// String is the gap as one warning: "source: reason".
func (g Gap) String() string {
	if g.Source == "" {
		return g.Reason
	}
	return g.Source + ": " + g.Reason
}

// Err is a gap as an error a reader carries on past: it names the source
// and keeps the cause for errors.Is.
type Err struct {
	Source string
	Err    error
}

// New is the error of source that could not be read because of err.
func New(source string, err error) error { return &Err{Source: source, Err: err} }

func (e *Err) Error() string { return Gap{Source: e.Source, Reason: e.Err.Error()}.String() }
func (e *Err) Unwrap() error { return e.Err }

// Of is err as a gap: the source of the *Err err is or wraps, else source
// with err's text as the reason.
func Of(source string, err error) Gap {
	var e *Err
	if errors.As(err, &e) {
		return Gap{Source: e.Source, Reason: e.Err.Error()}
	}
	return Gap{Source: source, Reason: err.Error()}
}

// List collects the gaps of concurrent readers, each once, in the order
// they came. The zero List is ready to use.
type List struct {
	mu   sync.Mutex
	seen map[Gap]bool
	gaps []Gap
}

// Add records g and reports whether it is new.
func (l *List) Add(g Gap) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[g] {
		return false
	}
	if l.seen == nil {
		l.seen = map[Gap]bool{}
	}
	l.seen[g] = true
	l.gaps = append(l.gaps, g)
	return true
}

// Gaps returns what was recorded so far.
func (l *List) Gaps() []Gap {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Gap(nil), l.gaps...)
}

// Len is how many distinct gaps were recorded.
func (l *List) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.gaps)
}
