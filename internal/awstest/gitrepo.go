package awstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// GitEpoch is the author and committer date of a GitRepo's first commit;
// each later commit is one hour after the one before.
var GitEpoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Git author of every commit a GitRepo makes.
const (
	GitAuthorName  = "Kim Tester"
	GitAuthorEmail = "kim@example.com"
)

// GitRepo is a real git repository in a test's temporary directory, driven
// by the git binary with a fixed identity and clock, so commits are reproducible.
type GitRepo struct {
	t       testing.TB
	Dir     string
	commits int
}

// NewGitRepo runs `git init` (branch main) in a fresh temporary directory.
// The test is skipped when git is not installed.
func NewGitRepo(t testing.TB) *GitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &GitRepo{t: t, Dir: t.TempDir()}
	r.Git("init", "-q", "-b", "main")
	return r
}

// CredentialsFile returns an ~/.aws/credentials file holding id and secret.
func CredentialsFile(id, secret string) string {
	return "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + secret + "\n"
}

// Date returns the date of the n-th commit (1-based) a GitRepo makes.
func (r *GitRepo) Date(n int) time.Time { return GitEpoch.Add(time.Duration(n-1) * time.Hour) }

// Git runs git in the repository and returns its trimmed standard output;
// a failure fails the test.
func (r *GitRepo) Git(args ...string) string {
	r.t.Helper()
	out, err := r.TryGit(args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// TryGit is Git that returns the error instead of failing the test.
func (r *GitRepo) TryGit(args ...string) (string, error) {
	date := r.Date(r.commits + 1).Format(time.RFC3339)
	cmd := exec.Command("git", args...)
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME="+GitAuthorName, "GIT_AUTHOR_EMAIL="+GitAuthorEmail, "GIT_AUTHOR_DATE="+date,
		"GIT_COMMITTER_NAME="+GitAuthorName, "GIT_COMMITTER_EMAIL="+GitAuthorEmail, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Write writes a file (slash-separated path) in the work tree, creating directories.
func (r *GitRepo) Write(path, content string) {
	r.t.Helper()
	full := filepath.Join(r.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// Remove deletes a file from the work tree.
func (r *GitRepo) Remove(path string) {
	r.t.Helper()
	if err := os.Remove(filepath.Join(r.Dir, filepath.FromSlash(path))); err != nil {
		r.t.Fatal(err)
	}
}

// Commit stages everything (`git add -A`) and commits it; it returns the commit id.
func (r *GitRepo) Commit(msg string) string {
	r.t.Helper()
	r.Git("add", "-A")
	r.Git("commit", "-q", "--allow-empty", "-m", msg)
	r.commits++
	return r.Git("rev-parse", "HEAD")
}

// CommitFile writes one file and commits it; it returns the commit id.
func (r *GitRepo) CommitFile(path, content, msg string) string {
	r.t.Helper()
	r.Write(path, content)
	return r.Commit(msg)
}

// ObjectPath is where the loose object id lives, for tests that damage a repository.
func (r *GitRepo) ObjectPath(id string) string {
	gitDir := r.Git("rev-parse", "--absolute-git-dir")
	return filepath.Join(gitDir, "objects", id[:2], id[2:])
}
