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
	"strings"
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

Exit status: 0 nothing found at or above the failure threshold, 1 findings (or alerts), 2 usage or
runtime error, 3 incomplete: nothing found, but some input, account or region could not be read
(findings outrank it). 'keywarden help VERB' says what each verb means by them.`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(deps.Stdin)
	root.SetOut(deps.Stdout)
	root.SetErr(deps.Stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newScanCmd(deps), newAuditCmd(deps), newCanaryCmd(deps), newRotateCmd(deps), newCredsCmd(deps), newExecCmd(deps), newRespondCmd(deps), newWatchCmd(deps), newLambdaCmd(deps), newHookCmd(deps), newPolicyCmd(deps), newDrillCmd(deps))
	root.AddCommand(newRetireApplyParentCmd(deps))
	root.SetHelpCommand(newHelpCmd(root))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range completionCmds(root) {
		c.Long = strings.TrimSpace(c.Long) + "\n\nExit status: 0 script printed, 2 usage error."
	}
	checkArgs(root, deps)
	return root
}

// completionCmds are cobra's completion command and its shells.
func completionCmds(root *cobra.Command) []*cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			return append([]*cobra.Command{c}, c.Commands()...)
		}
	}
	return nil
}

// newHelpCmd is 'keywarden help [COMMAND]...': cobra's, but a topic that is
// not a command is an error (exit 2), not a usage page.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]...",
		Short: "Help about any command",
		Long: `Show the help of keywarden or of one of its commands (keywarden help rotate undo).

Exit status: 0 help shown, 2 no such command.`,
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			if cmd, rest, err := root.Find(args); err == nil && len(rest) == 0 {
				for _, sub := range cmd.Commands() {
					if sub.IsAvailableCommand() {
						names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
					}
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				parent := cmd
				if parent == nil {
					parent = root
				}
				return usageErr(fmt.Errorf("no help topic %q: %s", strings.Join(args, " "), commandList(parent)))
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// checkArgs makes every command of the tree refuse bad arguments with its
// own usage line instead of cobra's generic words ("accepts at most 1
// arg(s), received 2"), and commands that only group others refuse an
// unknown one instead of printing their help and exiting 0. Once the
// arguments pass, what the flags say together is checked (checkPartition),
// still before any file is read or AWS called.
func checkArgs(c *cobra.Command, deps Deps) {
	check := c.Args
	if c.HasSubCommands() {
		c.SuggestionsMinimumDistance = 2 // cobra's own, which SuggestionsFor does not default to
		if !c.Runnable() {
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		if check == nil {
			check = cobra.NoArgs
		}
	}
	if check == nil {
		check = cobra.ArbitraryArgs
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			if ue := (*usageError)(nil); errors.As(err, &ue) { // the verb's own usage error
				return err
			}
			return argsError(cmd, args, check)
		}
		return checkPartition(cmd, deps.Getenv)
	}
	for _, sub := range c.Commands() {
		checkArgs(sub, deps)
	}
}

// argsError says what is wrong with args, which check refused: the first
// argument too many (an unknown command, where cmd groups others), or that
// some are missing, with cmd's usage line.
func argsError(cmd *cobra.Command, args []string, check cobra.PositionalArgs) error {
	k := len(args) - 1 // the longest accepted prefix
	for k >= 0 && check(cmd, args[:k]) != nil {
		k--
	}
	switch {
	case k < 0:
		return usageErr(fmt.Errorf("missing arguments: usage: %s", useLine(cmd)))
	case k == 0 && cmd.HasSubCommands():
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", s[0])
		}
		return usageErr(errors.New(msg + ": " + commandList(cmd)))
	}
	return usageErr(fmt.Errorf("unexpected argument %q: usage: %s", args[k], useLine(cmd)))
}

// useLine is cmd's Use after its parent's path: "keywarden rotate undo [ROTATION-ID]".
func useLine(cmd *cobra.Command) string {
	if cmd.HasParent() {
		return cmd.Parent().CommandPath() + " " + cmd.Use
	}
	return cmd.Use
}

// commandList names the commands cmd groups: "its commands are a, b, c".
func commandList(cmd *cobra.Command) string {
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return cmd.CommandPath() + " has the commands " + strings.Join(names, ", ")
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
	cmd, err := root.ExecuteContextC(ctx)
	var child childExit
	if err != nil && !isFindings(err) && !errors.As(err, &child) {
		printError(deps.Stderr, explain(sayOnce(usageHint(err, cmd)), loaded.caller))
	}
	return ExitCode(err)
}

func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "keywarden: %v\n", err)
	for _, h := range hints(err) {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}
