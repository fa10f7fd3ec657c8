package cli

import "github.com/spf13/cobra"

// newCanaryDetectCmd is a stand-in `canary` parent holding `canary check`
// until the canary verb (create, place, list, rotate, delete) is merged:
// the merge drops this file and adds newCanaryCheckCmd to that parent.
func newCanaryDetectCmd(deps Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "canary", Short: "Honey access keys that alert on any use", Args: cobra.NoArgs,
		Long: "Canary access keys: 'keywarden canary check' alerts on their use by calls CloudTrail does not log.\n\nExit status: that of the subcommand."}
	cmd.AddCommand(newCanaryCheckCmd(deps))
	return cmd
}
