package state

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// notFreeWithin is how long a Lock attempt is given to prove a lock is held.
// A short wait is enough: a held lock never comes free by itself.
const notFreeWithin = 300 * time.Millisecond

func TestLockBlocksSameNameUntilUnlocked(t *testing.T) {
	db := openTemp(t)
	unlock, err := db.Lock(context.Background(), "AKIAIOSFODNN7EXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	assertHeld(t, db, "AKIAIOSFODNN7EXAMPLE")

	other, err := db.Lock(context.Background(), "another-key")
	if err != nil {
		t.Fatalf("a different name blocked: %v", err)
	}
	if err := other(); err != nil {
		t.Fatal(err)
	}

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	assertFree(t, db, "AKIAIOSFODNN7EXAMPLE")
}

func TestLockWaitsForRelease(t *testing.T) {
	db := openTemp(t)
	unlock, err := db.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		u, err := db.Lock(ctx, "k")
		if err == nil {
			err = u()
		}
		got <- err
	}()
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("waiting Lock after unlock: %v", err)
	}
}

func TestLockAcrossDBHandlesOfOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	unlock, err := a.Lock(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	assertHeld(t, b, "k")
}

func TestLockIsCrossProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		name    string
		release func(h *helper) // how the holder lets go
	}{
		{"released by unlock", func(h *helper) { h.finish(t) }},
		{"released when the holder is killed", func(h *helper) { h.kill(t) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startHelper(t, "lock", path, "AKIAIOSFODNN7EXAMPLE")
			assertHeld(t, db, "AKIAIOSFODNN7EXAMPLE")
			tt.release(h)
			assertFree(t, db, "AKIAIOSFODNN7EXAMPLE")
		})
	}
}

// TestJournalSurvivesKill is what rotate relies on: once the transaction
// with the new key returned, killing the process loses nothing.
func TestJournalSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	h := startHelper(t, "journal", path, "rot-killed")
	h.kill(t)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	open, err := db.List(ctx, "rotation", Filter{OpenOnly: true})
	if err != nil || len(open) != 1 || open[0].Step != "created" {
		t.Fatalf("open rotations after kill = %+v, %v", open, err)
	}
	s, err := db.Secret(ctx, "rot-killed", "secret_access_key")
	if err != nil || s.Reveal() != helperSecret("rot-killed") {
		t.Errorf("secret after kill = %v, %v", s, err)
	}
}

func TestLockRejectsEmptyName(t *testing.T) {
	if _, err := openTemp(t).Lock(context.Background(), ""); err == nil {
		t.Error("Lock(\"\") succeeded")
	}
}

func TestLockFileNames(t *testing.T) {
	tests := []struct {
		name, a, b string
	}{
		{"slash and underscore differ", "a/b", "a_b"},
		{"case differs", "key", "KEY"},
		{"long names differing at the end", strings.Repeat("x", 100) + "1", strings.Repeat("x", 100) + "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lockFileName(tt.a) == lockFileName(tt.b) {
				t.Errorf("%q and %q share lock file %q", tt.a, tt.b, lockFileName(tt.a))
			}
		})
	}
}

func FuzzLockFileName(f *testing.F) {
	for _, s := range []string{"AKIAIOSFODNN7EXAMPLE", "../../etc/passwd", ".", "..", "a\x00b", "ключ", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := lockFileName(name)
		if got != filepath.Base(got) || got == "." || got == ".." || strings.ContainsAny(got, "/\\\x00") {
			t.Errorf("lockFileName(%q) = %q is not one plain file name", name, got)
		}
		if len(got) > 64+len("-12345678.lock") {
			t.Errorf("lockFileName(%q) is %d bytes long", name, len(got))
		}
	})
}

func assertHeld(t *testing.T, db *DB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), notFreeWithin)
	defer cancel()
	unlock, err := db.Lock(ctx, name)
	if err == nil {
		unlock()
		t.Fatalf("Lock(%q) succeeded while another holder has it", name)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock(%q) = %v, want a deadline error", name, err)
	}
}

func assertFree(t *testing.T, db *DB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := db.Lock(ctx, name)
	if err != nil {
		t.Fatalf("Lock(%q) after release: %v", name, err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

// helper is this test binary re-run as another process (see TestMain).
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startHelper runs job in a child process and waits until it reports ready.
func startHelper(t *testing.T, job, path, arg string) *helper {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+job, helperPathEnv+"="+path, helperArgEnv+"="+arg)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("helper %s did not get ready: %q, %v", job, line, err)
	}
	return h
}

// finish lets the helper end normally (it unlocks first) and waits for it.
func (h *helper) finish(t *testing.T) {
	t.Helper()
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}

// kill ends the helper with SIGKILL: no deferred unlock or Close runs.
func (h *helper) kill(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
}
