package target

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/atomicfile"
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

// writable is atomicfile.Writable, replaced by the package's tests: root writes
// anywhere, so a test running as root cannot make a real file unwritable.
var writable = atomicfile.Writable

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
