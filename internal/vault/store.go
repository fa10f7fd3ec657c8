package vault

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/gofrs/flock"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/bounded"
)

// maxFileSize bounds what is read from disk: age adds a header and 16 bytes
// per 64 KiB chunk, so a valid store is never much larger than maxDocSize.
const maxFileSize = maxDocSize + maxDocSize/64 + 4096

// lockTimeout bounds the wait for another process's write; writes hold the
// lock for one encryption, so a longer wait means something is stuck.
const lockTimeout = 2 * time.Minute

// errNoChange from an update's apply means there is nothing to write.
var errNoChange = errors.New("no change")

// readRaw reads the store file; exists is false when there is none yet.
func (s *Store) readRaw() (raw []byte, exists bool, err error) {
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read vault %s: %w", s.path, err)
	}
	defer f.Close()
	raw, err = bounded.ReadAll(f, maxFileSize, "")
	var tooLarge *bounded.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, true, s.corrupt(err)
	case err != nil:
		return nil, false, fmt.Errorf("read vault %s: %w", s.path, err)
	}
	return raw, true, nil
}

// sniffBackend tells the backend from the first recipient stanza of the age
// header ("-> scrypt SALT LOGN" or "-> X25519 ..."), without decrypting; for
// scrypt it also returns the work factor, so rewrites keep it.
func sniffBackend(raw []byte) (backend string, logN int, err error) {
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 256), 4096)
	if !sc.Scan() || sc.Text() != "age-encryption.org/v1" {
		return "", 0, errors.New("not an age file")
	}
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "-> ") {
		return "", 0, errors.New("age header has no recipient")
	}
	args := strings.Fields(strings.TrimPrefix(sc.Text(), "-> "))
	switch {
	case len(args) == 3 && args[0] == "scrypt":
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 1 || n > 30 {
			return "", 0, errors.New("age scrypt stanza has a bad work factor")
		}
		return BackendFile, n, nil
	case len(args) > 0 && args[0] == "X25519":
		return BackendKeyring, 0, nil
	case len(args) == 0:
		return "", 0, errors.New("age recipient stanza is empty")
	case args[0] == "scrypt":
		return "", 0, errors.New("age scrypt stanza is malformed")
	}
	typ := args[0]
	if len(typ) > 32 {
		typ = typ[:32]
	}
	return "", 0, fmt.Errorf("age recipient type %q is not one keywarden writes", typ)
}

// corrupt wraps ErrCorrupt with the path and how to recover.
func (s *Store) corrupt(cause error) error {
	bak := s.path + ".bak"
	hint := "restore the last good version: cp " + bak + " " + s.path
	if _, err := os.Stat(bak); err != nil {
		hint = "no backup " + bak + " exists; move the file aside and import the keys again"
	}
	return fmt.Errorf("vault %s: %w (%v); %s", s.path, ErrCorrupt, cause, hint)
}

// load returns the current document (empty when the store does not exist).
// It takes no file lock: writers replace the file by rename, so a read sees
// either the old or the new version, whole. The result is shared: callers
// must not modify it.
func (s *Store) load() (*doc, error) {
	raw, exists, err := s.readRaw()
	if err != nil {
		return nil, err
	}
	if !exists {
		return newDoc(), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.decryptLocked(raw)
}

// decryptLocked decrypts raw, reusing the last result when the ciphertext is
// unchanged (each scrypt open costs the full work factor). s.mu is held.
func (s *Store) decryptLocked(raw []byte) (*doc, error) {
	if s.cacheDoc != nil && bytes.Equal(raw, s.cacheRaw) {
		return s.cacheDoc, nil
	}
	b, logN, err := sniffBackend(raw)
	if err != nil {
		return nil, s.corrupt(err)
	}
	s.backend, s.fileLogN = b, logN // another process may have created the file meanwhile
	id, err := s.identityLocked(false)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(raw), id)
	if err != nil {
		return nil, s.decryptError(err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, maxDocSize+1))
	if err != nil {
		return nil, s.corrupt(err)
	}
	d, err := decodeDoc(plain)
	if err != nil {
		return nil, s.corrupt(err)
	}
	s.cacheRaw, s.cacheDoc = raw, d
	return d, nil
}

// decryptError classifies age's error: no matching identity is a wrong key,
// anything else (header syntax, bad MAC) is damage. s.mu is held.
func (s *Store) decryptError(err error) error {
	var nomatch *age.NoIdentityMatchError
	if !errors.As(err, &nomatch) {
		return s.corrupt(err)
	}
	if s.backend == BackendKeyring {
		s.ident = nil // the item may have been replaced since: read it again next time
		return fmt.Errorf("open vault %s: %w: the key in the keyring (service %q, account %q) does not match this file",
			s.path, ErrNoKeyring, keyringService, keyringAccount(s.path))
	}
	from := ""
	if s.passEnv {
		from = " (from " + EnvPassphrase + ")"
	}
	s.pass, s.passEnv = secretZero, false // ask again next time
	return fmt.Errorf("open vault %s: %w%s", s.path, ErrWrongPassphrase, from)
}

// update applies change to the current document under the exclusive lock and
// writes the result atomically, keeping the previous file as path+".bak".
func (s *Store) update(apply func(*doc) error) error {
	// A dry run without the lock returns apply's own errors (not found,
	// nothing to drop) early, and obtains the key (a passphrase prompt) before
	// the lock is taken, so a prompt never blocks other processes.
	cur, err := s.load()
	if err != nil {
		return err
	}
	if err := apply(cloneDoc(cur)); err != nil {
		if errors.Is(err, errNoChange) {
			return nil
		}
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.backend == BackendFile {
		if _, err := s.recipientLocked(); err != nil {
			return err
		}
	}
	// A keyring identity is fetched (or, for a new store, created) only under
	// the file lock: two processes creating one store must not each save
	// their own identity, or the loser's key would overwrite the winner's.
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return s.writeLocked(apply)
}

// writeLocked re-reads the file under the file lock and writes the change.
func (s *Store) writeLocked(apply func(*doc) error) error {
	raw, exists, err := s.readRaw()
	if err != nil {
		return err
	}
	d := newDoc()
	if exists {
		cur, err := s.decryptLocked(raw)
		if err != nil {
			return err
		}
		d = cloneDoc(cur)
	}
	if err := apply(d); err != nil {
		if errors.Is(err, errNoChange) {
			return nil
		}
		return err
	}
	out, err := s.encryptLocked(d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("write vault %s: %w", s.path, err)
	}
	if exists {
		if err := writeFile(s.path+".bak", raw); err != nil {
			return fmt.Errorf("back up vault: %w", err)
		}
	}
	if err := writeFile(s.path, out); err != nil {
		return fmt.Errorf("write vault: %w", err)
	}
	s.cacheRaw, s.cacheDoc = out, d
	return nil
}

func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// lock takes the exclusive lock on path+".lock", shared by every process.
func (s *Store) lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("lock vault %s: %w", s.path, err)
	}
	l := flock.New(s.path+".lock", flock.SetPermissions(0o600))
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	ok, err := l.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock vault %s: %w", s.path, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock vault %s: another keywarden process held it for %s", s.path, lockTimeout)
	}
	return func() { l.Unlock() }, nil
}

// encryptLocked encrypts d to the store's key. s.mu is held.
func (s *Store) encryptLocked(d *doc) ([]byte, error) {
	plain, err := encodeDoc(d)
	if err != nil {
		return nil, err
	}
	rcp, err := s.recipientLocked()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rcp)
	if err != nil {
		return nil, fmt.Errorf("encrypt vault %s: %w", s.path, err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("encrypt vault %s: %w", s.path, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt vault %s: %w", s.path, err)
	}
	return buf.Bytes(), nil
}

func cloneDoc(d *doc) *doc {
	c := newDoc()
	for k, v := range d.Entries {
		c.Entries[k] = v
	}
	for k, v := range d.Sessions {
		c.Sessions[k] = v
	}
	return c
}
