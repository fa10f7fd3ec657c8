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

// leakFile is where a repository leak puts the key.
const leakFile = "config/aws.env"

// workflowFile is where a CI leak pastes the key.
const workflowFile = ".github/workflows/deploy.yml"

// A leak is the files a scenario's leak writes: before holds the key, after
// (for a repository, the next commit) does not; after nil: no repository.
type leakFiles struct {
	path          string
	before, after []byte
}

func filesOf(how string, key credential.Key) leakFiles {
	id, sec := key.ID, key.Secret.Reveal()
	switch how {
	case LeakLaptop:
		return leakFiles{path: ".aws/credentials", before: []byte("[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\nregion = us-east-1\n")}
	case LeakCIWorkflow:
		wf := func(idv, secv string) []byte {
			return []byte("name: deploy\non: [push]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: " + idv +
				"\n      AWS_SECRET_ACCESS_KEY: " + secv + "\n    steps:\n      - run: aws s3 sync site/ s3://example-site\n")
		}
		return leakFiles{path: workflowFile, before: wf(id, sec), after: wf("${{ secrets.AWS_ACCESS_KEY_ID }}", "${{ secrets.AWS_SECRET_ACCESS_KEY }}")}
	}
	return leakFiles{path: leakFile, before: []byte("AWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\n")}
}

// leakInto writes the scenario's leak into dir: for a repository leak, a
// git repository whose first commit holds key and whose second removes it
// (deletes the file, or for a CI workflow replaces the key by the CI's
// secrets), as a developer who noticed too late would. It says what it did.
func leakInto(ctx context.Context, dir, how string, key credential.Key, now time.Time) (string, error) {
	f := filesOf(how, key)
	write := func(b []byte) error {
		path := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		return os.WriteFile(path, b, 0o600)
	}
	if how == LeakLaptop {
		return "written to " + f.path + " as the default profile", write(f.before)
	}
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
	var commits [2]string
	if _, err := git("init", "-q", "-b", "main"); err != nil {
		return "", err
	}
	for i, body := range [][]byte{f.before, f.after} {
		var err error
		switch {
		case i == 0:
			err = write(body)
		case body == nil:
			_, err = git("rm", "-q", f.path)
		default:
			err = write(body)
		}
		if err != nil {
			return "", err
		}
		msg := [2]string{"add deploy settings", "remove secrets"}[i]
		if _, err := git("add", "-A"); err != nil {
			return "", err
		}
		if _, err := git("commit", "-q", "-m", msg); err != nil {
			return "", err
		}
		if commits[i], err = git("rev-parse", "HEAD"); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%s committed in %s, removed in %s", f.path, short(commits[0]), short(commits[1])), nil
}
