//go:build unix

package source

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A pipe inside a tree has no writer: opening it would block for ever.
func TestScanFSPipeInTreeNotOpened(t *testing.T) {
	root := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	content, id := creds("beside-fifo")
	writeFile(t, filepath.Join(root, "k.env"), []byte(content))
	te := newTestEnv()
	if err := ScanFS(context.Background(), root, FSOptions{}, te.Env); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]hit{{"file", filepath.ToSlash(root) + "/k.env", id}}, te.hits()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// A pipe named as the root, as in `keywarden scan <(cmd)`, is read like stdin.
func TestScanFSPipeRootIsStreamed(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	content, id := creds("through-fifo")
	data := gzOf(t, []byte(content))
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(data)
		f.Close()
	}()
	te := newTestEnv()
	if err := ScanFS(context.Background(), fifo, FSOptions{}, te.Env); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]hit{{"file", filepath.ToSlash(fifo), id}}, te.hits()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
