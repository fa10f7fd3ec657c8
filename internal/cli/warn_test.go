package cli

import (
	"bytes"
	"errors"
	"testing"
)

// TestWarnerHoldsLinesUntilSomethingIsRead: while nothing is read a
// warning may become the run's one error line, so it is held; once
// something is read the held lines come first, then each line as it comes.
func TestWarnerHoldsLinesUntilSomethingIsRead(t *testing.T) {
	var buf bytes.Buffer
	read := false
	w := newWarner(&buf)
	w.holdWhile(func() bool { return !read })
	w.add(errors.New("a.gz: truncated"))
	w.add(errors.New("a.gz: truncated")) // once
	if buf.Len() != 0 {
		t.Fatalf("printed %q while nothing was read", buf.String())
	}
	read = true
	w.add(errors.New("b/c: permission denied"))
	if want := "warning: a.gz: truncated\nwarning: b/c: permission denied\n"; buf.String() != want {
		t.Errorf("printed %q, want %q", buf.String(), want)
	}

	buf.Reset()
	w = newWarner(&buf)
	w.holdWhile(func() bool { return true })
	w.add(errors.New("only.gz: truncated"))
	if held := w.takeHeld(); len(held) != 1 || held[0] != "only.gz: truncated" {
		t.Errorf("held %q", held)
	}
	w.flush()
	if buf.Len() != 0 {
		t.Errorf("a line taken back was printed: %q", buf.String())
	}
}
