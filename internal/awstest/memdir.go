package awstest

import (
	"os"
	"testing"
)

// MemDir is t.TempDir in memory (/dev/shm) where the system has one. The
// fault tables kill a verb inside the test process hundreds of times, never
// the machine: what they test is which files and journal records a run
// leaves, not whether an fsync reaches the disk, and on a disk the state
// database's fsyncs would make them ten times slower. Elsewhere it is
// t.TempDir.
func MemDir(t testing.TB) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "keywarden-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
