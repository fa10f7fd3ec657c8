package cli

import "github.com/spf13/cobra"

// newDrillPlanParentCmd is a stand-in for 'drill run's parent until the two
// branches are joined: the lead replaces it with newDrillCmd and adds
// newDrillPlanCmd to it.
func newDrillPlanParentCmd(deps Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Test the incident-response plan: write it (plan)",
		Long: `Test the incident-response plan end to end. 'drill plan' writes the plan of this account.

Exit status: that of the subcommand.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDrillPlanCmd(deps))
	return cmd
}
