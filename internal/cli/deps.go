package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/state"
)

// Deps is the one place a verb gets the world from: the process's streams,
// the clock, the environment, the AWS configuration, keywarden's state
// database and the person at the terminal. Main fills what its caller left
// nil with the real thing, so a test sets only what it fixes.
type Deps struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	Now func() time.Time
	// Getenv reads one environment variable; Environ lists them all (the
	// environment a command keywarden runs starts from).
	Getenv  func(string) string
	Environ func() []string
	// LoadAWS resolves the SDK configuration (profiles, AWS_ENDPOINT_URL,
	// region, retries).
	LoadAWS func(ctx context.Context, opts awsx.Options) (aws.Config, error)
	// OpenState opens keywarden's state database at path; "" is the default
	// place ($KEYWARDEN_STATE, else the XDG state directory).
	OpenState func(path string) (*state.DB, error)
	// Executable is keywarden's own binary, which the jobs and
	// credential_process lines it writes run.
	Executable func() (string, error)
	// Prompter asks the person at the terminal: confirmations, MFA codes,
	// passphrases.
	Prompter Prompter
}

// withDefaults is deps with every nil field set to the real thing.
func (d Deps) withDefaults() Deps {
	if d.Stdin == nil {
		d.Stdin = os.Stdin
	}
	if d.Stdout == nil {
		d.Stdout = os.Stdout
	}
	if d.Stderr == nil {
		d.Stderr = os.Stderr
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Getenv == nil {
		d.Getenv = os.Getenv
	}
	if d.Environ == nil {
		d.Environ = os.Environ
	}
	if d.LoadAWS == nil {
		d.LoadAWS = awsx.Load
	}
	if d.OpenState == nil {
		d.OpenState = openState
	}
	if d.Executable == nil {
		d.Executable = os.Executable
	}
	if d.Prompter == nil {
		d.Prompter = ttyPrompter{}
	}
	return d
}

// openState opens the state database at path, or at its default place.
func openState(path string) (*state.DB, error) {
	if path == "" {
		var err error
		if path, err = state.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return state.Open(path)
}

// home is the user's home directory, from $HOME as the shell has it.
func (d Deps) home() (string, error) {
	if h := d.Getenv("HOME"); filepath.IsAbs(h) {
		return h, nil
	}
	return "", errors.New("find the home directory: $HOME is not set to an absolute path")
}
