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

// Counter reports how much work is done so far.
type Counter func() (objects, bytes int64)

// Progress redraws one status line on w until Stop. It writes nothing unless w is a terminal.
type Progress struct {
	w    io.Writer
	line func() string
	stop chan struct{}
	done sync.WaitGroup
}

// StartProgress begins redrawing a scan's rate every interval; a nil
// result's Stop is safe.
func StartProgress(w io.Writer, count Counter, interval time.Duration) *Progress {
	start := time.Now()
	return StartStatus(w, func() string { return Rate(count, time.Since(start)) }, interval)
}

// StartStatus begins redrawing line() every interval; a nil result's Stop
// is safe.
func StartStatus(w io.Writer, line func() string, interval time.Duration) *Progress {
	if !IsTerminal(w) {
		return nil
	}
	p := &Progress{w: w, line: line, stop: make(chan struct{})}
	p.done.Add(1)
	go p.loop(interval)
	return p
}

func (p *Progress) loop(interval time.Duration) {
	defer p.done.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case <-t.C:
			fmt.Fprintf(p.w, "\r\033[K%s", p.line())
		}
	}
}

// Stop clears the line and waits for the redraw loop to end.
func (p *Progress) Stop() {
	if p == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
}

// Rate formats "N objects, X MiB scanned (Y MiB/s)".
func Rate(count Counter, elapsed time.Duration) string {
	objs, n := count()
	mib := float64(n) / (1 << 20)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = mib / s
	}
	return fmt.Sprintf("%d objects, %.1f MiB scanned in %.2fs (%.0f MiB/s)", objs, mib, elapsed.Seconds(), rate)
}
