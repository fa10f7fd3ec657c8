// Package ui decides what a person at a terminal sees: whether a stream is a
// TTY (color and progress only there) and the progress line on stderr.
package ui

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal. NO_COLOR and TERM=dumb count as "not for color".
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ColorOK reports whether ANSI color may be written to w.
func ColorOK(w io.Writer) bool {
	return IsTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// Progress redraws one status line on a terminal until Stop, and is the
// writer for everything else said on that terminal meanwhile: what is
// written through it clears the status line first, so a warning never
// lands on the end of a progress line. On anything but a terminal it draws
// nothing and passes writes through. Safe for concurrent use.
type Progress struct {
	mu     sync.Mutex
	w      io.Writer
	status func() string
	drawn  bool // a status line is on the screen
	stop   chan struct{}
	done   sync.WaitGroup
}

// StartProgress draws status() every interval while w is a terminal.
func StartProgress(w io.Writer, status func() string, interval time.Duration) *Progress {
	return startProgress(w, status, interval, IsTerminal(w))
}

func startProgress(w io.Writer, status func() string, interval time.Duration, tty bool) *Progress {
	p := &Progress{w: w, status: status, stop: make(chan struct{})}
	if tty {
		p.done.Add(1)
		go p.loop(interval)
	}
	return p
}

func (p *Progress) loop(interval time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			fmt.Fprintf(p.w, "\r\033[K%s", p.status())
			p.drawn = true
			p.mu.Unlock()
		}
	}
}

// Write clears the status line, if one is drawn, and writes b in its place;
// the next tick draws the status again below it.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	return p.w.Write(b)
}

func (p *Progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// Stop ends the redraws and clears the line; writes still pass through.
func (p *Progress) Stop() {
	select {
	case <-p.stop:
		return // stopped already
	default:
		close(p.stop)
	}
	p.done.Wait()
	p.mu.Lock()
	p.clear()
	p.mu.Unlock()
}

// Size formats a byte count for people: "512 B", "3.4 MiB", "1.20 GiB".
func Size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// Rate formats how fast n bytes went by in elapsed: "42 MiB/s".
func Rate(n int64, elapsed time.Duration) string {
	s := elapsed.Seconds()
	if s <= 0 {
		return "- MiB/s"
	}
	return fmt.Sprintf("%.0f MiB/s", float64(n)/(1<<20)/s)
}
