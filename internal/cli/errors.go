package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/spf13/cobra"
)

// Exit statuses, the same for every verb. Findings outrank incompleteness:
// a run that found something and also could not read everything exits 1,
// and says what it could not read.
const (
	ExitOK         = 0
	ExitFindings   = 1 // findings or alerts at or above --fail-on
	ExitError      = 2 // usage or runtime error: the job was not done
	ExitIncomplete = 3 // done, nothing to report, but some input, account or region could not be read
)

// errFindings is returned when findings reach the failure threshold: exit 1, no error line.
var errFindings = errors.New("findings at or above the failure threshold")

func isFindings(err error) bool { return errors.Is(err, errFindings) }

// incompleteError is a run that finished but could not read all it was
// asked to: Main prints the one line, the warnings already said what.
type incompleteError struct {
	what string // "2 of 5 inputs could not be read"
}

func (e *incompleteError) Error() string { return "incomplete: " + e.what }

// incomplete is the outcome of a run with gaps: nil when there are none,
// else errFindings when findings reached the threshold (they outrank the
// gaps, which the output names anyway), else an *incompleteError.
func incomplete(gaps int, what string, findings bool) error {
	switch {
	case findings:
		return errFindings
	case gaps > 0:
		return &incompleteError{what: what}
	}
	return nil
}

// hintedError carries "hint:" lines printed under the one-line error.
type hintedError struct {
	err   error
	hints []string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHint attaches hints to err.
func withHint(err error, hint ...string) error { return &hintedError{err: err, hints: hint} }

func hints(err error) []string {
	var h *hintedError
	if errors.As(err, &h) {
		return h.hints
	}
	return nil
}

// usageError is a bad flag or argument; it exits 2 like every other error,
// and Main adds the hint naming the command's help (usageHint).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErr marks bad flags or arguments.
func usageErr(err error) error { return &usageError{err: err} }

// usageHint is err with the hint "run 'keywarden help VERB' for usage" when
// err is a usage error that needs it: one whose line already says what is
// wanted (the shared flag errors' `--name "value": want ...`) or that
// carries a hint of its own gets none.
func usageHint(err error, cmd *cobra.Command) error {
	var ue *usageError
	if !errors.As(err, &ue) || hints(err) != nil || strings.Contains(err.Error(), ": want ") {
		return err
	}
	return withHint(err, "run '"+helpCommand(cmd)+"' for usage")
}

// helpCommand is the help command of cmd: "keywarden help rotate undo".
func helpCommand(cmd *cobra.Command) string {
	if cmd == nil || !cmd.HasParent() {
		return "keywarden help"
	}
	return "keywarden help " + strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// childExit is the exit status of a command keywarden ran (exec): passed
// through as keywarden's own, with no error line.
type childExit int

func (c childExit) Error() string { return fmt.Sprintf("command exited %d", int(c)) }

// ExitCode maps an error from a verb to the process exit status.
func ExitCode(err error) int {
	var child childExit
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &child):
		return int(child)
	case isFindings(err):
		return ExitFindings
	case errors.As(err, new(*incompleteError)):
		return ExitIncomplete
	default:
		return ExitError
	}
}

// explain turns the failures any AWS verb can meet, whatever it was doing,
// into one line and a hint: no credentials, a profile that is not there, an
// endpoint that cannot be reached. The line keeps what the verb was doing
// and drops the SDK's layers in between. An access denied that does not say
// who was refused gets the caller's ARN (caller asks STS; "" when it cannot
// tell).
func explain(err error, caller func() string) error {
	var noCreds *awsx.NoCredentialsError
	var noProfile *awsx.ProfileNotFoundError
	var noConn *awsx.ConnectError
	switch {
	case errors.As(err, &noCreds):
		return withHint(awsx.Plain(err), "set up credentials with 'aws configure' (or 'aws configure sso'), "+
			"or name a profile that has them with --profile or AWS_PROFILE")
	case errors.As(err, &noProfile):
		return withHint(awsx.Plain(err), "'aws configure list-profiles' lists the profiles there are")
	case errors.As(err, &noConn) && noConn.Setting != "":
		return withHint(awsx.Plain(err), "start what should answer there, or unset "+noConn.Setting+" to use AWS's own endpoints")
	case errors.As(err, &noConn):
		return withHint(awsx.Plain(err), "check the network connection and any proxy (HTTPS_PROXY)")
	case awsx.IsDenied(err):
		if arn := caller(); arn != "" && !strings.Contains(err.Error(), arn) {
			return withHint(err, append(hints(err), "the calls were made as "+arn)...)
		}
	}
	return err
}

// sayOnce drops the path of a file error from err's line where the line
// names it already: "read allowlist F: open F: no such file or directory"
// becomes "read allowlist F: no such file or directory".
func sayOnce(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	text, inner := err.Error(), pe.Error()
	i := strings.LastIndex(text, inner)
	if i < 0 || !strings.Contains(text[:i], pe.Path) && !strings.Contains(text[:i], relative(pe.Path)) {
		return err
	}
	return &restated{text: text[:i] + pe.Err.Error() + text[i+len(inner):], err: err}
}

// relative is path from the working directory, as the user may have
// typed it; path itself when that cannot be told.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(path) {
		return path
	}
	if rel, err := filepath.Rel(wd, path); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// restated is err with a shorter text.
type restated struct {
	text string
	err  error
}

func (r *restated) Error() string { return r.text }
func (r *restated) Unwrap() error { return r.err }
