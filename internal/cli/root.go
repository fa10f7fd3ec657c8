// Package cli wires keywarden's verbs to cobra: one file per verb, each with
// newXCmd(deps), xOptions and runX(ctx, opts, deps). Nothing else touches cobra or stdout.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/lambda"
)

// version is set at build time with -ldflags "-X github.com/keywarden/keywarden/internal/cli.version=v1.2.3".
var version = ""

// Version returns the build's version: the ldflags value, else the module version, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// NewRootCmd builds the whole command tree; what deps leaves nil is the
// real thing.
func NewRootCmd(deps Deps) *cobra.Command {
	deps = deps.withDefaults()
	root := &cobra.Command{
		Use:   "keywarden",
		Short: "Guard AWS access keys through their whole life",
		Long: `keywarden guards AWS access keys through their whole life:

  scan     find keys leaked in files, archives, stdin, the whole git history, staged changes
           and exposed .git/ directories
  audit    judge accounts (or an Organization) against access-key best practice; list every key
  rotate   rotate keys safely and on a schedule, into the places that hold them
  creds    keep long-term keys encrypted; serve short-term credentials (credential_process)
  exec     run a command with short-term credentials (MFA, roles)
  respond  the playbook for an exposed key: contain, review CloudTrail, replace, report, undo
  watch    CloudTrail red flags of a stolen key, from files, S3, LookupEvents (lambda: in AWS Lambda)

Exit status: 0 nothing found at or above the failure threshold, 1 findings, 2 usage or runtime error.`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(deps.Stdin)
	root.SetOut(deps.Stdout)
	root.SetErr(deps.Stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newScanCmd(deps), newAuditCmd(deps), newRotateCmd(deps), newCredsCmd(deps), newExecCmd(deps), newRespondCmd(deps), newWatchCmd(deps), newLambdaCmd(deps), newHookCmd(deps))
	return root
}

// Main runs keywarden with args and returns the process exit status.
func Main(args []string, deps Deps) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps = deps.withDefaults()
	loaded := &loadedAWS{}
	deps.LoadAWS = loaded.wrap(deps.LoadAWS)
	root := NewRootCmd(deps)
	if len(args) == 0 && lambda.Running() {
		args = []string{"lambda"} // the Lambda runtime starts the bootstrap binary with no arguments
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var child childExit
	if err != nil && !isFindings(err) && !errors.As(err, &child) {
		printError(deps.Stderr, explain(err, loaded.caller))
	}
	return ExitCode(err)
}

func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "keywarden: %v\n", err)
	for _, h := range hints(err) {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}
