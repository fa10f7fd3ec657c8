package cli

import "github.com/spf13/cobra"

// newPolicyApplyParentCmd is a stand-in for the suggest half's 'policy'
// parent, on this branch only: the lead joins both at merge.
func newPolicyApplyParentCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Least privilege from observed use: diff, apply and undo a suggested policy",
		Long:  "Least privilege from observed use.\n\nExit status: that of the subcommand (0 for this help), 2 for an unknown one.",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPolicyDiffCmd(d), newPolicyApplyCmd(d), newPolicyUndoCmd(d), newPolicyListCmd(d))
	return cmd
}
