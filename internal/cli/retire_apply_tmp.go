package cli

import "github.com/spf13/cobra"

// newRetireApplyParentCmd is a throwaway parent for apply, finish, undo and
// list on the retire-apply branch; at merge they join the plan branch's
// newRetireCmd and this file goes.
func newRetireApplyParentCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retire",
		Short: "Replace long-term access keys with roles, and retire the keys once nothing uses them",
		Long: `Replace long-term access keys with roles: apply builds what a plan proposes, finish retires
each key once it stays unused, undo removes what apply built, list shows the retirements, schedule runs finish daily.

Exit status: that of the subcommand (0 for this help), 2 for an unknown one.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newRetireApplyCmd(d), newRetireFinishCmd(d), newRetireUndoCmd(d), newRetireListCmd(d), newRetireScheduleCmd(d))
	return cmd
}
