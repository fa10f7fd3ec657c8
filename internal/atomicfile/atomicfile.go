// Package atomicfile writes files so that a reader (or a crash) never sees half
// of one: write a temporary file beside the target, sync, then rename over it.
//
// The temporary file has one fixed name per target (TempPath), so that a
// journal can record it before a write that may leave it (it holds the new
// content, secrets included, until the rename) and a later run can remove
// what a killed one left (RemoveTemp). A write holds a lock on its temporary
// file while it lives, so a leftover is told from a live write: the next
// Write of the same target removes a leftover, and refuses to touch a live
// one (ErrBusy).
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keywarden/keywarden/internal/fault"
)

// ErrBusy is wrapped when another write of the same file is under way.
var ErrBusy = errors.New("another write of the file is under way")

// TempPath is the temporary file a Write of path fills before renaming it
// over path: ".NAME.keywarden-tmp" beside the file a symlink at path points
// at.
func TempPath(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".keywarden-tmp")
}

// Write replaces path with what write produces, with mode perm. On any error
// the target is left as it was and the temporary file is removed. A symlink is
// followed, so the file it points at is replaced and the link kept. A target
// that is not a regular file (a device such as /dev/null or /dev/stdout, a
// pipe) is written in place: renaming over it would replace the device.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return writeInPlace(path, write)
	}
	base := filepath.Base(path)
	tmp, err := create(TempPath(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if renamed {
			return
		}
		if err != nil { // on a panic (a test's kill) the file stays, as after a crash
			os.Remove(tmp.Name())
		}
		tmp.Close()
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = fault.At("fsync " + base); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = fault.At("rename " + base); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if renamed, err = rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// The file is replaced: an error now would tell the caller it was not.
	// Syncing the directory only makes the rename survive a power loss.
	syncDir(path)
	return nil
}

// create makes the temporary file and locks it; a leftover of a killed
// write is removed first.
func create(tmpPath string) (*os.File, error) {
	for range 2 {
		f, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			if err := RemoveTemp(tmpPath); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		// A RemoveTemp between the create and the lock may have taken the
		// file away (and another write made a new one): start again.
		if err := lockOrBusy(f, tmpPath); err != nil {
			f.Close()
			if errors.Is(err, ErrBusy) {
				continue
			}
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("temporary file %s: %w", tmpPath, ErrBusy)
}

// lockOrBusy locks f, the file at path, and checks it is still there.
func lockOrBusy(f *os.File, path string) error {
	ok, err := tryLock(f)
	if err != nil || !ok {
		return cmpErr(err, ErrBusy)
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	at, err := os.Lstat(path)
	if err != nil || !os.SameFile(st, at) {
		return ErrBusy
	}
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// RemoveTemp removes the temporary file tmpPath (a TempPath) that a killed
// Write left. A missing file is no error; one that a live Write holds is
// left to it (an error wrapping ErrBusy).
func RemoveTemp(tmpPath string) error {
	st, err := os.Lstat(tmpPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove temporary file %s: %w", tmpPath, err)
	}
	if st.Mode().IsRegular() {
		f, err := os.Open(tmpPath)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("remove temporary file %s: %w", tmpPath, err)
		}
		defer f.Close()
		if err := lockOrBusy(f, tmpPath); errors.Is(err, ErrBusy) {
			if _, serr := os.Lstat(tmpPath); errors.Is(serr, fs.ErrNotExist) {
				return nil // its write renamed it meanwhile
			}
			return fmt.Errorf("remove temporary file %s: %w", tmpPath, err)
		} else if err != nil {
			return fmt.Errorf("remove temporary file %s: %w", tmpPath, err)
		}
	}
	if err := os.Remove(tmpPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove temporary file %s: %w", tmpPath, err)
	}
	return nil
}

func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
