package ui

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressWritesNothingWhenNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := StartProgress(&buf, func() (int64, int64) { return 1, 1 }, time.Millisecond)
	if p != nil {
		t.Fatal("progress started on a buffer: pipes and files must get no progress lines")
	}
	p.Stop() // a nil Progress must be safe to stop
	if buf.Len() != 0 || ColorOK(&buf) {
		t.Errorf("wrote %q / color ok on a non-terminal", buf.String())
	}
}

func TestRateReportsObjectsBytesAndSpeed(t *testing.T) {
	got := Rate(func() (int64, int64) { return 42, 10 << 20 }, 2*time.Second)
	want := "42 objects, 10.0 MiB scanned in 2.00s (5 MiB/s)"
	if got != want {
		t.Errorf("Rate = %q, want %q", got, want)
	}
}
