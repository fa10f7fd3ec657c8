package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/bounded"
)

// maxEnvFile bounds what is read: a dotenv file is small, and a huge or
// endless file (a FIFO, /dev/zero) must not exhaust memory.
const maxEnvFile = 16 << 20

type envFileTarget struct {
	spec   string
	path   string
	stderr io.Writer
}

func newEnvFile(spec, path string, env Env) (Target, error) {
	if path == "" {
		return nil, errors.New("envfile needs a path")
	}
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		home := env.Getenv("HOME")
		if home == "" {
			return nil, errors.New("~ used but HOME is not set")
		}
		path = filepath.Join(home, rest)
	}
	return &envFileTarget{spec: spec, path: path, stderr: env.Stderr}, nil
}

func (t *envFileTarget) String() string { return t.spec }

// Files is the file Deliver writes.
func (t *envFileTarget) Files() []string { return []string{t.path} }

func (t *envFileTarget) Deliver(ctx context.Context, c Credentials) (func(context.Context) error, error) {
	if err := Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	old, mode, existed, err := readEnvFile(t.path)
	if err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	if mode&0o077 != 0 {
		fmt.Fprintf(t.stderr, "warning: %s is readable by others (mode %04o); consider chmod 600\n", t.path, mode)
	}
	next := editDotenv(old, Pair(c))
	if !existed || !bytes.Equal(next, old) {
		if err := writeFile(t.path, mode, next); err != nil {
			return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
		}
	}
	return func(context.Context) error {
		var err error
		if existed {
			err = writeFile(t.path, mode, old)
		} else if err = os.Remove(t.path); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("restore %s: %w", t.spec, err)
		}
		return nil
	}, nil
}

// readEnvFile returns the file's bytes and permission bits; a missing file is
// empty, with the 0600 a credentials file is created with.
func readEnvFile(path string) (data []byte, mode fs.FileMode, existed bool, err error) {
	// Stat before opening: opening a FIFO would block until a writer came.
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o600, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, false, fmt.Errorf("read %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err = bounded.ReadAll(f, maxEnvFile, "a dotenv file")
	if err != nil {
		return nil, 0, false, fmt.Errorf("read %s: %w", path, err)
	}
	return data, st.Mode().Perm(), true, nil
}

func writeFile(path string, mode fs.FileMode, data []byte) error {
	return atomicfile.Write(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
