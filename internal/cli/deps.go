package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
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

// callerTimeout bounds the STS call that names who was denied.
const callerTimeout = 5 * time.Second

// loadedAWS remembers the last configuration a verb loaded to sign with its
// own credentials, so that an access-denied line can name who was refused.
type loadedAWS struct {
	mu  sync.Mutex
	cfg *aws.Config
}

// wrap is load, remembering what it loads.
func (l *loadedAWS) wrap(load func(context.Context, awsx.Options) (aws.Config, error)) func(context.Context, awsx.Options) (aws.Config, error) {
	return func(ctx context.Context, opts awsx.Options) (aws.Config, error) {
		cfg, err := load(ctx, opts)
		if err == nil && !opts.SettingsOnly {
			l.mu.Lock()
			l.cfg = &cfg
			l.mu.Unlock()
		}
		return cfg, err
	}
}

// caller is the ARN the remembered configuration signs as (STS
// GetCallerIdentity, which needs no permission), or "" when there is none
// or STS does not say within callerTimeout.
func (l *loadedAWS) caller() string {
	l.mu.Lock()
	cfg := l.cfg
	l.mu.Unlock()
	if cfg == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), callerTimeout)
	defer cancel()
	id, err := awsx.CallerIdentity(ctx, awsx.ForIAM(*cfg))
	if err != nil {
		return ""
	}
	return id.ARN
}
