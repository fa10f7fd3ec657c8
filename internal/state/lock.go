package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// lockPoll is how often a waiting Lock retries; flock(2) has no wait with a
// deadline, and a poll keeps cancellation exact.
const lockPoll = 50 * time.Millisecond

// Lock takes an exclusive advisory lock named name, shared by every process
// using this state directory (a flock on <dir>/locks/<name>.lock), waiting
// until it is free or ctx is done. The lock is released by unlock, or by the
// kernel if the process dies, so a killed run never leaves it stale. Locks
// are per open file, so two Locks of one name in one process exclude each
// other too.
func (db *DB) Lock(ctx context.Context, name string) (unlock func() error, err error) {
	if name == "" {
		return nil, errors.New("lock: empty name")
	}
	fl, err := db.lockFile(name)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	ok, err := fl.TryLockContext(ctx, lockPoll)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: not acquired", name)
	}
	return func() error {
		if err := fl.Unlock(); err != nil {
			return fmt.Errorf("unlock %s: %w", name, err)
		}
		return nil
	}, nil
}

// lockFile is the file whose flock is the lock named name.
func (db *DB) lockFile(name string) (*flock.Flock, error) {
	dir := filepath.Join(filepath.Dir(db.path), "locks")
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	return flock.New(filepath.Join(dir, lockFileName(name)), flock.SetPermissions(0o600)), nil
}

// lockFileName maps any name to one safe file name: the readable part keeps
// [A-Za-z0-9._-] (at most 64 bytes), and a hash of the whole name keeps two
// names that sanitize alike ("a/b", "a_b") from sharing a lock.
func lockFileName(name string) string {
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(name))
	return b.String() + "-" + hex.EncodeToString(sum[:4]) + ".lock"
}
