package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Checker is a Target that can tell, before anything changes, that its
// delivery would fail: a token that is not set, a file this user cannot
// write. A rotation runs every check before it creates a key.
type Checker interface {
	Check(ctx context.Context) error
}

// Check runs t's check, when it has one.
func Check(ctx context.Context, t Target) error {
	if c, ok := t.(Checker); ok {
		return c.Check(ctx)
	}
	return nil
}

// Writable says whether this user can replace path the way atomicfile does
// (a temporary file beside it, then a rename): an existing file must open
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

// writable is Writable, replaced by the package's tests: root writes
// anywhere, so a test running as root cannot make a real file unwritable.
var writable = Writable

// Check: the dotenv file (or its directory, when it is still to be made)
// must be writable.
func (t *envFileTarget) Check(context.Context) error {
	if err := writable(t.path); err != nil {
		return fmt.Errorf("target %s: %w", t.spec, err)
	}
	return nil
}

// Check: a token must be set.
func (t *gitHubTarget) Check(context.Context) error {
	if t.env.firstEnv("GITHUB_TOKEN", "GH_TOKEN") == "" {
		return fmt.Errorf("target %s: %w", t.spec, errNoGitHubToken)
	}
	return nil
}

// Check: a token must be set.
func (t *gitLabTarget) Check(context.Context) error {
	if t.env.Getenv("GITLAB_TOKEN") == "" {
		return fmt.Errorf("target %s: %w", t.spec, errNoGitLabToken)
	}
	return nil
}

var (
	errNoGitHubToken = errors.New("no GitHub token: set GITHUB_TOKEN or GH_TOKEN (needs write access to the repository's secrets)")
	errNoGitLabToken = errors.New("no GitLab token: set GITLAB_TOKEN (a token with the api scope, Maintainer role)")
)

// Precheck parses spec and runs its check when its kind is one this
// package delivers itself (a token, a file); the kinds that call AWS need
// the signing identity, and a rotation checks them once it has one. It
// needs no AWS call, so a run can refuse a target before its first.
func Precheck(ctx context.Context, spec string, env Env) error {
	kind, _, _ := strings.Cut(spec, ":")
	if _, ok := kinds[kind]; !ok {
		return nil
	}
	t, err := Parse(spec, env)
	if err != nil {
		return err
	}
	return Check(ctx, t)
}
