//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// tryLock takes an exclusive flock on f without waiting; false: another
// open file holds it. The kernel drops it when the holder dies.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// rename moves the locked temporary file over path, then closes it: the
// lock is held until the file has its final name, so no RemoveTemp can take
// it (and no other write replace it) before.
func rename(tmp *os.File, path string) (renamed bool, err error) {
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return true, tmp.Close()
}

// syncDir makes the rename of path durable, where the file system can: it
// syncs its directory.
func syncDir(path string) {
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
}
