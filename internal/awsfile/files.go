package awsfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/bounded"
)

// maxSize bounds what Load reads: a shared file is a few kilobytes, and an
// environment variable pointing at /dev/zero must not exhaust memory.
const maxSize = 4 << 20

// CredentialsPath is the shared credentials file the SDK reads:
// $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials.
func CredentialsPath() (string, error) {
	return sharedPath("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

// ConfigPath is the shared config file the SDK reads: $AWS_CONFIG_FILE, else
// ~/.aws/config.
func ConfigPath() (string, error) {
	return sharedPath("AWS_CONFIG_FILE", "config")
}

func sharedPath(env, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate aws %s file: %w", name, err)
	}
	return filepath.Join(home, ".aws", name), nil
}

// Load reads and parses the shared file at path, and returns its permission
// bits for Save. A missing file is an empty File with mode 0600.
func Load(path string, kind Kind) (*File, os.FileMode, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		f, _ := Parse(nil, kind)
		f.path = path
		return f, 0o600, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", path, err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", path, err)
	}
	data, err := bounded.ReadAll(fh, maxSize, "an aws shared file")
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", path, err)
	}
	f, err := Parse(data, kind)
	if err != nil {
		return nil, 0, fmt.Errorf("load %s: %w", path, err)
	}
	f.path = path
	return f, st.Mode().Perm(), nil
}

// Save writes f to path atomically with mode (a symlink is followed and
// kept), creating the parent directory 0700 when it is missing.
func Save(path string, f *File, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	data := f.Bytes()
	err := atomicfile.Write(path, mode.Perm(), func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// lockRetry is how often Lock retries a held lock until ctx ends.
const lockRetry = 50 * time.Millisecond

// Lock takes an exclusive advisory lock on path+".lock" (created 0600 with
// its directory), waiting until it is free or ctx ends, so that two
// rotations of one file take turns. The lock is tied to an open file, so a
// crashed holder releases it.
func Lock(ctx context.Context, path string) (unlock func() error, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	l := flock.New(path+".lock", flock.SetPermissions(0o600))
	ok, err := l.TryLockContext(ctx, lockRetry)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
	}
	return l.Unlock, nil
}
