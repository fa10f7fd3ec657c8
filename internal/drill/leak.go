package drill

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
)

// leakFile is where the scratch repository's first commit puts the key.
const leakFile = "config/aws.env"

// leakInto makes dir a git repository whose first commit holds key in a
// file and whose second deletes it, as a developer who noticed too late
// would; it returns the two commits.
func leakInto(ctx context.Context, dir string, key credential.Key, now time.Time) ([2]string, error) {
	var commits [2]string
	date := now.UTC().Format(time.RFC3339)
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=keywarden drill", "-c", "user.email=drill@keywarden.invalid",
			"-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s in %s: %v: %s", args[0], dir, err, strings.TrimSpace(errb.String()))
		}
		return strings.TrimSpace(out.String()), nil
	}
	if _, err := git("init", "-q", "-b", "main"); err != nil {
		return commits, err
	}
	path := filepath.Join(dir, leakFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return commits, err
	}
	body := "AWS_ACCESS_KEY_ID=" + key.ID + "\nAWS_SECRET_ACCESS_KEY=" + key.Secret.Reveal() + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return commits, err
	}
	steps := [][]string{{"add", leakFile}, {"commit", "-q", "-m", "add deploy settings"}, {"rev-parse", "HEAD"},
		{"rm", "-q", leakFile}, {"commit", "-q", "-m", "remove secrets"}, {"rev-parse", "HEAD"}}
	for i, args := range steps {
		out, err := git(args...)
		if err != nil {
			return commits, err
		}
		if args[0] == "rev-parse" {
			commits[i/3] = out
		}
	}
	return commits, nil
}
