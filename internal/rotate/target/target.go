// Package target delivers a newly rotated AWS access key to the places that
// hold it. `keywarden rotate --to SPEC` takes one of these specs:
//
//	secretsmanager:NAME|ARN       a Secrets Manager secret whose string is a JSON object
//	ssm:/path                     one SecureString parameter holding that JSON object
//	ssm:/prefix/                  two SecureString parameters, prefix+AWS_ACCESS_KEY_ID and prefix+AWS_SECRET_ACCESS_KEY
//	envfile:PATH                  a dotenv file (AWS_ACCESS_KEY_ID= and AWS_SECRET_ACCESS_KEY= lines)
//	github:OWNER/REPO[:ENV]       GitHub Actions secrets of a repository (or one of its environments)
//	gitlab:PROJECT[:ENV_SCOPE]    GitLab CI/CD project variables (PROJECT is an id or a path)
//	exec:COMMAND                  sh -c COMMAND with the credentials as JSON on stdin
//
// The kinds that call AWS (secretsmanager:, ssm:) live in the adapter
// targetaws, which the caller hands to Parse in Env.Kinds: this package
// imports no AWS SDK.
//
// Every target is idempotent (a resumed rotation delivers the same key again)
// and, where the old value can be read back, returns a restore function the
// rotation calls to roll back when a later step fails.
package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// Credentials is the new access key being delivered.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey secret.Secret
	UserName        string
	AccountID       string
	Created         time.Time
}

// Target is one place that holds the key.
type Target interface {
	String() string // the spec as the user wrote it, e.g. "ssm:/ci/deploy" (never a secret)
	// Deliver stores c. It must be idempotent: after a crash the rotation delivers the same key again.
	// restore puts back what the target held before Deliver, for rollback when a later target fails;
	// nil when the old value cannot be read back (GitHub secrets are write-only, exec is opaque).
	Deliver(ctx context.Context, c Credentials) (restore func(context.Context) error, err error)
}

// Kind makes the target of spec from rest, what follows spec's "KIND:".
// Its error says what is wrong with rest; Parse names the spec and the forms.
type Kind func(spec, rest string, env Env) (Target, error)

// kinds are the kinds this package delivers itself.
var kinds = map[string]Kind{"envfile": newEnvFile, "github": newGitHub, "gitlab": newGitLab, "exec": newExec}

// Env is what targets need from the outside world, resolved once by the CLI.
type Env struct {
	Kinds  map[string]Kind     // the kinds delivered elsewhere: targetaws.Kinds
	HTTP   *http.Client        // nil: a client with a 60s timeout
	Getenv func(string) string // nil: os.Getenv
	Stderr io.Writer           // exec's output goes here, redacted; nil: discarded
}

// Forms lists the accepted spec forms, for errors and help.
const Forms = "secretsmanager:NAME|ARN, ssm:/path, ssm:/prefix/, envfile:PATH, " +
	"github:OWNER/REPO[:ENVIRONMENT], gitlab:PROJECT[:ENV_SCOPE], exec:COMMAND"

// ErrBadSpec is wrapped by every error Parse returns, so the CLI can map it to a usage error.
var ErrBadSpec = errors.New("bad target")

// Parse turns a --to spec into a Target. Bad specs give one clear error naming
// the spec and the accepted forms.
func Parse(spec string, env Env) (Target, error) {
	env = env.withDefaults()
	kind, rest, ok := strings.Cut(spec, ":")
	if !ok {
		return nil, badSpec(spec, "no KIND: prefix")
	}
	newTarget, ok := kinds[kind]
	if !ok {
		newTarget, ok = env.Kinds[kind]
	}
	if !ok {
		return nil, badSpec(spec, fmt.Sprintf("unknown kind %q", kind))
	}
	t, err := newTarget(spec, rest, env)
	if err != nil {
		return nil, badSpec(spec, err.Error())
	}
	return t, nil
}

func badSpec(spec, why string) error {
	return fmt.Errorf("%w %q: %s; accepted forms: %s", ErrBadSpec, spec, why, Forms)
}

func (e Env) withDefaults() Env {
	if e.HTTP == nil {
		e.HTTP = &http.Client{Timeout: 60 * time.Second}
	}
	if e.Getenv == nil {
		e.Getenv = os.Getenv
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	return e
}

// firstEnv returns the first non-empty value of the named variables.
func (e Env) firstEnv(names ...string) string {
	for _, n := range names {
		if v := e.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

const redacted = "[REDACTED]"

// Scrub guards every error a target returns: a service or a command may echo
// the value it was given, and an error is printed. When the secret appears in
// the message, the error is replaced by a redacted copy that does not unwrap
// (unwrapping would reach the clear text again).
func Scrub(err error, c Credentials) error {
	if err == nil {
		return nil
	}
	s := c.SecretAccessKey.Reveal()
	if s == "" || !strings.Contains(err.Error(), s) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), s, redacted))
}

// Validate refuses credentials that are not shaped like an AWS key pair
// (credential.CheckShape): the targets embed them in JSON, dotenv lines,
// files and HTTP bodies, and a value with quotes, spaces or newlines would
// corrupt (or inject into) those formats.
func Validate(c Credentials) error {
	return credential.CheckShape(c.AccessKeyID, c.SecretAccessKey)
}

// Variable names the CI targets and ssm:/prefix/ use (Pair).
const (
	varKeyID  = "AWS_ACCESS_KEY_ID"
	varSecret = "AWS_SECRET_ACCESS_KEY"
)

// Pair is the two values under their variable names, in the order they are
// written.
func Pair(c Credentials) [2][2]string {
	return [2][2]string{{varKeyID, c.AccessKeyID}, {varSecret, c.SecretAccessKey.Reveal()}}
}
