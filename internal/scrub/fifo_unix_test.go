//go:build unix

package scrub

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestScanNeverOpensPipes: a FIFO where a dotfile should be would block a
// reader forever.
func TestScanNeverOpensPipes(t *testing.T) {
	home := t.TempDir()
	for _, rel := range []string{".bashrc", ".config/app/fifo.json"} {
		p := filepath.Join(home, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	symlink(t, filepath.Join(home, ".bashrc"), filepath.Join(home, ".zshrc"))
	got, _ := scanHome(t, home)
	if len(got) != 0 {
		t.Errorf("found %v, want nothing", got)
	}
}
