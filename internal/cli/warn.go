package cli

import (
	"fmt"
	"io"
	"sync"
)

// maxWarnings caps the warning lines one run prints; the rest are counted.
const maxWarnings = 20

// warner prints "warning: ..." lines to stderr, once per distinct message, safe for concurrent use.
type warner struct {
	mu     sync.Mutex
	w      io.Writer
	seen   map[string]bool
	extras int
}

func newWarner(w io.Writer) *warner { return &warner{w: w, seen: map[string]bool{}} }

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
	fmt.Fprintf(wr.w, "warning: %s\n", msg)
}

// flush prints how many warnings were held back.
func (wr *warner) flush() {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.extras > 0 {
		fmt.Fprintf(wr.w, "warning: %d more warnings not shown\n", wr.extras)
		wr.extras = 0
	}
}
