//go:build !unix

package atomicfile

import "os"

// tryLock: without flock, a temporary file is taken for a leftover.
func tryLock(*os.File) (bool, error) { return true, nil }

// rename closes the temporary file first: an open file cannot be renamed.
func rename(tmp *os.File, path string) (renamed bool, err error) {
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return true, nil
}

// syncDir: directories cannot be synced here.
func syncDir(string) {}
