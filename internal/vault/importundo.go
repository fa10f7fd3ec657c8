package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsfile"
)

// importUndo is what an import changed, each thing recorded before it was
// changed, so that a failure half way puts it all back.
type importUndo struct {
	entries []keptEntry
	files   []keptFile
}

// keptEntry is a store entry as it was before the import put its own.
type keptEntry struct {
	profile string
	prev    Entry
	existed bool
}

// keptFile is a shared file as it was before the import edited it.
type keptFile struct {
	path string
	data []byte
	mode os.FileMode
}

// keepEntry records profile's entry (or its absence) before it is put.
func (u *importUndo) keepEntry(store *Store, profile string) error {
	if slices.ContainsFunc(u.entries, func(e keptEntry) bool { return e.profile == profile }) {
		return nil
	}
	prev, err := store.Get(profile)
	switch {
	case errors.Is(err, ErrNotFound):
		u.entries = append(u.entries, keptEntry{profile: profile})
	case err != nil:
		return err
	default:
		u.entries = append(u.entries, keptEntry{profile: profile, prev: prev, existed: true})
	}
	return nil
}

// keepFile records path's bytes and mode before it is edited.
func (u *importUndo) keepFile(path string) error {
	if slices.ContainsFunc(u.files, func(f keptFile) bool { return f.path == path }) {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("keep %s to put it back on failure: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("keep %s to put it back on failure: %w", path, err)
	}
	u.files = append(u.files, keptFile{path: path, data: data, mode: st.Mode().Perm()})
	return nil
}

// run puts the files back as they were, then the store's entries. A file
// the import did not get to change is left alone.
func (u *importUndo) run(store *Store) error {
	var errs []error
	for _, f := range slices.Backward(u.files) {
		if now, err := os.ReadFile(f.path); err == nil && bytes.Equal(now, f.data) {
			continue
		}
		errs = append(errs, f.restore())
	}
	for _, e := range slices.Backward(u.entries) {
		var err error
		if e.existed {
			err = store.Put(e.profile, e.prev)
		} else if err = store.Remove(e.profile); errors.Is(err, ErrNotFound) {
			err = nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// restore writes the kept bytes back under the file's lock.
func (f keptFile) restore() error {
	unlock, err := awsfile.Lock(context.Background(), f.path)
	if err != nil {
		return fmt.Errorf("put back %s: %w", f.path, err)
	}
	defer unlock()
	err = atomicfile.Write(f.path, f.mode, func(w io.Writer) error {
		_, err := w.Write(f.data)
		return err
	})
	if err != nil {
		return fmt.Errorf("put back %s: %w", f.path, err)
	}
	return nil
}

// checkWritable is atomicfile.Writable, its errors naming path.
func checkWritable(path string) error {
	if err := atomicfile.Writable(path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
