package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWritable tries the real probe: a file in a writable directory
// passes, leaving nothing behind; a directory that does not exist, or (not
// as root, who writes anywhere) one that is read-only, does not.
func TestWritable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Writable(path); err != nil {
		t.Fatalf("a writable file: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("the probe left files: %v", left)
	}
	if err := Writable(filepath.Join(dir, "gone", "credentials")); err == nil || !strings.Contains(err.Error(), "does not take new files") {
		t.Errorf("a missing directory: %v", err)
	}
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere: rotate and creds import tests inject the check")
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if err := Writable(path); err == nil || !strings.Contains(err.Error(), "does not take new files") {
		t.Errorf("a read-only directory: %v", err)
	}
}
