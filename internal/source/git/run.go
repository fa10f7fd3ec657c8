package git

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// gitCmd runs the git binary against one repository. Every command is tied
// to ctx, so a cancelled scan kills its subprocesses instead of hanging.
type gitCmd struct {
	dir string
	env []string
}

// safeConfig keeps a scanned repository's own configuration from running
// programs or reaching the network: partial clones would otherwise try to
// fetch every missing object lazily.
var safeConfig = []string{
	"-c", "core.fsmonitor=false",
	"-c", "protocol.allow=never",
	"-c", "core.quotePath=false",
	"-c", "core.packedGitWindowSize=16m", // bound the pack mapped into each git process: RSS, not speed
	"-c", "core.packedGitLimit=64m",
}

// newGitCmd prepares commands for the repository at dir. With inherit, the
// caller's GIT_DIR / GIT_INDEX_FILE are kept (a hook runs with them set, and a
// partial commit stages into a temporary index); without it they are dropped
// so that dir alone names the repository.
func newGitCmd(dir string, inherit bool) *gitCmd {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		if !inherit && isRepoSelector(kv) {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_TERMINAL_PROMPT=0", "GIT_NO_LAZY_FETCH=1", "GIT_OPTIONAL_LOCKS=0")
	return &gitCmd{dir: dir, env: env}
}

func isRepoSelector(kv string) bool {
	for _, k := range []string{"GIT_DIR=", "GIT_WORK_TREE=", "GIT_INDEX_FILE=", "GIT_COMMON_DIR=",
		"GIT_OBJECT_DIRECTORY=", "GIT_ALTERNATE_OBJECT_DIRECTORIES=", "GIT_NAMESPACE="} {
		if strings.HasPrefix(kv, k) {
			return true
		}
	}
	return false
}

// command builds (but does not start) git args... in the repository.
func (g *gitCmd) command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{"-C", g.dir}, safeConfig...), args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = g.env
	cmd.WaitDelay = 2 * time.Second // do not wait forever on pipes a killed child left open
	return cmd
}

// output runs git and returns its standard output; a failure carries git's
// first line of standard error.
func (g *gitCmd) output(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), gitError(args, err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// gitError turns a failed git run into a one-line error.
func gitError(args []string, err error, stderr []byte) error {
	msg := strings.TrimSpace(string(stderr))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	name := "git"
	if len(args) > 0 {
		name = "git " + args[0]
	}
	if msg == "" {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("%s: %s: %w", name, msg, err)
}
