package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/source/git"
)

// hookOptions is what `keywarden hook install` was told.
type hookOptions struct {
	repo      string
	force     bool
	commitMsg bool
}

func newHookCmd(deps Deps) *cobra.Command {
	hook := &cobra.Command{
		Use:   "hook",
		Short: "Install keywarden as a git hook",
		Long: `Install keywarden as a git hook, so every commit is scanned before it is made.

Exit status: 0 installed, 2 error (for example a hook not written by keywarden is in the way).`,
	}
	opts := hookOptions{}
	install := &cobra.Command{
		Use:   "install [REPO]",
		Short: "Install the pre-commit hook (keywarden scan --staged) in REPO (default .)",
		Long: `Install the pre-commit hook, which runs 'keywarden scan --staged' and stops a commit that
adds an AWS key. With --commit-msg, also install the commit-msg hook, which scans the commit
message. core.hooksPath is honoured. A hook that keywarden did not write is never replaced
unless --force, and then it is kept as <hook>.keywarden-backup.

Exit status: 0 installed, 2 error.`,
		Example: "  keywarden hook install\n  keywarden hook install --commit-msg ~/src/app",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.repo = "."
			if len(args) == 1 {
				opts.repo = args[0]
			}
			return runHookInstall(opts, deps)
		},
	}
	install.Flags().BoolVar(&opts.force, "force", false, "replace a hook keywarden did not write (keeping a backup)")
	install.Flags().BoolVar(&opts.commitMsg, "commit-msg", false, "also install the commit-msg hook")
	hook.AddCommand(install)
	return hook
}

func runHookInstall(opts hookOptions, deps Deps) error {
	hooks := []string{"pre-commit"}
	if opts.commitMsg {
		hooks = append(hooks, "commit-msg")
	}
	for _, h := range hooks {
		p, err := git.InstallHook(opts.repo, h, opts.force)
		if err != nil {
			return err
		}
		fmt.Fprintf(deps.Stdout, "installed %s hook: %s\n", h, p)
	}
	return nil
}
