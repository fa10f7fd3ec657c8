package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Writable says whether this user can replace path the way Write does (a
// temporary file beside it, then a rename): an existing file must open
// for writing, through its symlinks, and its directory must take a new file,
// which is tried, not inferred from modes (ACLs, read-only mounts and root
// all defeat a mode check). Its errors do not repeat path: the caller names it.
func Writable(path string) error {
	real, err := filepath.EvalSymlinks(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		real = path // created by the write: only its directory matters
	case err != nil:
		return unwrapPath(err)
	default:
		st, err := os.Stat(real)
		if err != nil {
			return unwrapPath(err)
		}
		if st.Mode().IsRegular() {
			f, err := os.OpenFile(real, os.O_WRONLY, 0) // no O_TRUNC: nothing changes
			if err != nil {
				return fmt.Errorf("not writable by this user: %w", unwrapPath(err))
			}
			f.Close()
		}
	}
	dir := filepath.Dir(real)
	probe, err := os.CreateTemp(dir, ".keywarden-probe-*")
	if err != nil {
		return fmt.Errorf("its directory %s does not take new files (an atomic write needs one): %w", dir, unwrapPath(err))
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// unwrapPath is the reason of a *fs.PathError, whose path the message has.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
