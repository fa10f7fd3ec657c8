package ui

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressWritesNothingWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := StartProgress(&buf, func() string { return "1 object" }, time.Millisecond)
	time.Sleep(10 * time.Millisecond)
	fmt.Fprintln(p, "warning: x")
	p.Stop()
	p.Stop() // twice is safe
	if buf.String() != "warning: x\n" || ColorOK(&buf) {
		t.Errorf("wrote %q / color ok on a non-terminal: want the warning alone", buf.String())
	}
}

// TestWarningsNeverLandOnAProgressLine: a line written while the status is
// drawn starts on a cleared line, and the status comes back after it.
func TestWarningsNeverLandOnAProgressLine(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(b) })
	drawn := make(chan struct{}, 100)
	p := startProgress(w, func() string { drawn <- struct{}{}; return "7 objects" }, time.Millisecond, true)
	<-drawn
	<-drawn // the status line is on the screen (drawn at least once, under the lock)
	fmt.Fprintln(p, "warning: a.zip: truncated")
	<-drawn
	<-drawn
	p.Stop()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "7 objects\r\033[Kwarning: a.zip: truncated\n") {
		t.Errorf("the warning does not start on a cleared line:\n%q", out)
	}
	if !strings.Contains(out, "truncated\n\r\033[K7 objects") {
		t.Errorf("the status was not drawn again after the warning:\n%q", out)
	}
	if !strings.HasSuffix(out, "7 objects\r\033[K") {
		t.Errorf("Stop left the status line on the screen:\n%q", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func TestSizeAndRate(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 3 << 19: "1.5 MiB", 5 << 30: "5.00 GiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Rate(10<<20, 2*time.Second); got != "5 MiB/s" {
		t.Errorf("Rate = %q", got)
	}
}
