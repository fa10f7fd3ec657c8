// Package sessionexec runs a command with a session as its only AWS
// credentials: the child's environment and the run itself (stdio passed
// through, signals forwarded, the exit status a shell would report).
package sessionexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
)

// credentialVars are the environment variables that carry credentials or
// pick a profile: exec replaces them all, so the child sees only the
// session it was given — and never the store's passphrase, which would let
// it read every long-term key.
var credentialVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_VAULT", "KEYWARDEN_PASSPHRASE",
}

// Env is environ without credential variables, plus the session's.
func Env(environ []string, profile, region string, key credential.Key, expires time.Time) []string {
	out := make([]string, 0, len(environ)+7)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !isCredentialVar(name) && !(region != "" && (name == "AWS_REGION" || name == "AWS_DEFAULT_REGION")) {
			out = append(out, kv)
		}
	}
	out = append(out,
		"AWS_ACCESS_KEY_ID="+key.ID,
		"AWS_SECRET_ACCESS_KEY="+key.Secret.Reveal(),
		"KEYWARDEN_PROFILE="+profile, // lets a shell prompt show it, and exec refuse nesting
	)
	if !key.SessionToken.IsZero() {
		out = append(out, "AWS_SESSION_TOKEN="+key.SessionToken.Reveal())
	}
	if !expires.IsZero() {
		out = append(out, "AWS_CREDENTIAL_EXPIRATION="+expires.UTC().Format(time.RFC3339))
	}
	if region != "" {
		out = append(out, "AWS_REGION="+region, "AWS_DEFAULT_REGION="+region)
	}
	return out
}

func isCredentialVar(name string) bool {
	for _, v := range credentialVars {
		if name == v {
			return true
		}
	}
	return false
}

// forwarded are the signals exec passes to the child: the child decides
// what they mean (a ^C in the terminal reaches both anyway).
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Run runs argv with env, stdio passed through, forwarding signals, and
// returns the exit status to leave with: the child's, or 128+N when a
// signal N ended it, as a shell reports it. A command not found on PATH is
// an error wrapping an *exec.Error: the child never ran.
func Run(argv, env []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
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
