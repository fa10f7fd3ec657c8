// Package sessionexec runs a command with a session as its only AWS
// credentials: the child's environment (every other credential variable,
// the profile choice and the store's passphrase removed) and the run itself
// (stdio passed through, signals forwarded, the exit status a shell would
// report).
package sessionexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
)

// Session is what the child is given.
type Session struct {
	Profile string         // KEYWARDEN_PROFILE: lets a shell prompt show it, and exec refuse nesting
	Region  string         // AWS_REGION and AWS_DEFAULT_REGION; "": the environment's stay
	Key     credential.Key // a session, or a long-term key (no SessionToken)
	Expires time.Time      // AWS_CREDENTIAL_EXPIRATION; zero for a long-term key
}

// credentialVars are the environment variables that carry credentials or
// pick a profile: Env replaces them all, so the child sees only the session
// it was given — and never the store's passphrase, which would let it read
// every long-term key.
var credentialVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_VAULT", "KEYWARDEN_PASSPHRASE",
}

// Env is environ without credential variables (and without its region
// when s names one), plus s's.
func Env(environ []string, s Session) []string {
	out := make([]string, 0, len(environ)+7)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		region := name == "AWS_REGION" || name == "AWS_DEFAULT_REGION"
		if !slices.Contains(credentialVars, name) && !(s.Region != "" && region) {
			out = append(out, kv)
		}
	}
	out = append(out,
		"AWS_ACCESS_KEY_ID="+s.Key.ID,
		"AWS_SECRET_ACCESS_KEY="+s.Key.Secret.Reveal(),
		"KEYWARDEN_PROFILE="+s.Profile,
	)
	if !s.Key.SessionToken.IsZero() {
		out = append(out, "AWS_SESSION_TOKEN="+s.Key.SessionToken.Reveal())
	}
	if !s.Expires.IsZero() {
		out = append(out, "AWS_CREDENTIAL_EXPIRATION="+s.Expires.UTC().Format(time.RFC3339))
	}
	if s.Region != "" {
		out = append(out, "AWS_REGION="+s.Region, "AWS_DEFAULT_REGION="+s.Region)
	}
	return out
}

// forwarded are the signals Run passes to the child: the child decides
// what they mean (a ^C in the terminal reaches both anyway).
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Stdio are the child's streams.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Run runs argv (argv[0] looked up on PATH) with env, passing on the
// forwarded signals this process receives while it runs, and returns the
// exit status to leave with: the child's, or 128+N when signal N ended it,
// as a shell reports it. A command not found on PATH is an error wrapping
// an *exec.Error: the child never ran.
func Run(argv, env []string, stdio Stdio) (int, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, err // an *exec.Error: `exec: "CMD": why`
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("exec %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	}
	return 0, fmt.Errorf("exec %s: %w", argv[0], err)
}
