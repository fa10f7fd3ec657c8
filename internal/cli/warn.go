package cli

import (
	"fmt"
	"io"
	"sync"
)

// maxWarnings caps the warning lines one run prints; the rest are counted.
const maxWarnings = 20

// warner prints "warning: ..." lines to stderr, once per distinct message,
// safe for concurrent use. Given a ui.Progress as its writer, its lines
// clear the progress line first.
type warner struct {
	mu     sync.Mutex
	w      io.Writer
	seen   map[string]bool
	extras int
	// hold, while it reports true, keeps lines back in held: a run that
	// reads nothing at all says why in its one error line instead.
	hold func() bool
	held []string
}

func newWarner(w io.Writer) *warner { return &warner{w: w, seen: map[string]bool{}} }

// holdWhile keeps lines back while held() reports true; the first line
// added after that, or flush, prints them first.
func (wr *warner) holdWhile(held func() bool) {
	wr.mu.Lock()
	wr.hold = held
	wr.mu.Unlock()
}

func (wr *warner) add(err error) {
	if err == nil {
		return
	}
	msg := err.Error()
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.seen[msg] {
		return
	}
	if len(wr.seen) >= maxWarnings {
		wr.extras++
		return
	}
	wr.seen[msg] = true
	if wr.hold != nil && wr.hold() {
		wr.held = append(wr.held, msg)
		return
	}
	wr.printHeld()
	fmt.Fprintf(wr.w, "warning: %s\n", msg)
}

func (wr *warner) printHeld() {
	for _, msg := range wr.held {
		fmt.Fprintf(wr.w, "warning: %s\n", msg)
	}
	wr.held, wr.hold = nil, nil
}

// takeHeld returns the lines held back, which will not be printed.
func (wr *warner) takeHeld() []string {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	held := wr.held
	wr.held, wr.hold = nil, nil
	return held
}

// flush prints the lines held back and how many warnings were not shown.
func (wr *warner) flush() {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	wr.printHeld()
	if wr.extras > 0 {
		fmt.Fprintf(wr.w, "warning: %d more warnings not shown\n", wr.extras)
		wr.extras = 0
	}
}
