package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hookMarker marks a hook keywarden wrote, so it may replace it later.
const hookMarker = "# installed by keywarden"

// ErrForeignHook is returned when a hook keywarden did not write is in the way.
var ErrForeignHook = errors.New("a hook keywarden did not write is already installed")

// hookBodies are the commands each supported hook runs.
var hookBodies = map[string]string{
	"pre-commit": `exec keywarden scan --staged`,
	"commit-msg": `exec keywarden scan --commit-msg "$1"`,
}

// hookScript is the whole hook. It fails closed, with a hint, when keywarden
// is not on PATH: a guard that silently stops guarding is worse than none.
func hookScript(hook string) string {
	return "#!/bin/sh\n" + hookMarker + " (" + hook + "); `keywarden hook` rewrites this file.\n" +
		"if ! command -v keywarden >/dev/null 2>&1; then\n" +
		"\techo 'keywarden: not on PATH; install it, or commit with --no-verify to skip this check' >&2\n" +
		"\texit 1\n" +
		"fi\n" +
		hookBodies[hook] + "\n"
}

// InstallHook installs keywarden as the given hook ("pre-commit" or
// "commit-msg") of the repository at dir, where git looks for hooks
// (core.hooksPath included), and returns the hook's path. Installing again
// is a no-op; a hook keywarden did not write is kept unless force, in which
// case it is moved to "<hook>.keywarden-backup" first.
func InstallHook(dir string, hook string, force bool) (string, error) {
	if _, ok := hookBodies[hook]; !ok {
		return "", fmt.Errorf("install hook %q: unknown hook (want pre-commit or commit-msg)", hook)
	}
	g := newGitCmd(dir, false)
	out, err := g.output(context.Background(), nil, "rev-parse", "--git-path", "hooks")
	switch {
	case err != nil && strings.Contains(err.Error(), "not a git repository"):
		return "", fmt.Errorf("install %s hook: %s is not a git repository", hook, dir) // git's words would say it again
	case err != nil:
		return "", fmt.Errorf("install %s hook in %s: %w", hook, dir, err)
	}
	hooksDir := strings.TrimSpace(string(out))
	if !filepath.IsAbs(hooksDir) {
		hooksDir = filepath.Join(dir, hooksDir)
	}
	path := filepath.Join(hooksDir, hook)
	if err := makeRoom(path, force); err != nil {
		return "", fmt.Errorf("install %s hook: %w", hook, err)
	}
	if err := os.MkdirAll(hooksDir, 0o755); err != nil {
		return "", fmt.Errorf("install %s hook: %w", hook, err)
	}
	if err := writeExecutable(path, hookScript(hook)); err != nil {
		return "", fmt.Errorf("install %s hook: %w", hook, err)
	}
	return path, nil
}

// makeRoom checks what is at path: nothing or our own hook is fine; a
// foreign hook is an error unless force, which backs it up.
func makeRoom(path string, force bool) error {
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if strings.Contains(string(old), hookMarker) {
		return nil
	}
	if !force {
		return fmt.Errorf("%s: %w (use --force to replace it; it is kept as %s.keywarden-backup)",
			path, ErrForeignHook, filepath.Base(path))
	}
	if err := os.Rename(path, path+".keywarden-backup"); err != nil {
		return fmt.Errorf("back up %s: %w", path, err)
	}
	return nil
}

// writeExecutable writes the file atomically (temp file + rename), mode 0755.
func writeExecutable(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keywarden-hook-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
