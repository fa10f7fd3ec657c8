package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/rotate"
)

func newRotateStatusCmd(deps Deps, opts *rotateOptions) *cobra.Command {
	var all bool
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List rotations still open: waiting to delete an old key, kept, stuck or interrupted",
		Long: `List the rotations of keywarden's state database that are still open: old keys waiting for
their grace period to end (a later 'keywarden rotate' deletes them), old keys kept because
they were used after deactivation (the note says by which service, where), rotations stuck on
a target that cannot be restored, runs that were interrupted (the next 'keywarden rotate' of
that user resumes them) or killed while rolling back (rolling-back: the next run finishes the
rollback). --all lists finished rotations too: done, undone, and rolled-back (a target failed,
or STS never accepted the new key within --verify-timeout: targets restored, new key deleted).
A rotation whose IAM calls a role signed says so (signed_as; in the table's note).
Nothing secret is shown.

Exit status: 0 listed (none open included), 2 usage or runtime error.`,
		Example: "  keywarden rotate status\n  keywarden rotate status --all --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := deps.OpenState(opts.statePath)
			if err != nil {
				return err
			}
			defer db.Close()
			rs, err := rotate.List(cmd.Context(), db, !all)
			if err != nil {
				return err
			}
			if format.value == "json" {
				return rotate.WriteJSON(deps.Stdout, rs)
			}
			return rotate.WriteTable(deps.Stdout, rs)
		},
	}
	stateFlags(cmd.Flags(), opts)
	cmd.Flags().BoolVar(&all, "all", false, "list finished rotations too")
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	return cmd
}

func newRotateUndoCmd(deps Deps, opts *rotateOptions) *cobra.Command {
	var caller string
	cmd := &cobra.Command{
		Use:   "undo [ROTATION-ID]",
		Short: "Put the previous key back while it still exists",
		Long: `Undo a rotation whose old key still exists (inactive, in its grace period, or kept):
reactivate the old key; for a profile's key, whose old secret keywarden journaled, write it
back into every place the new key went, byte for byte, and deactivate the new key. For a
service user's key (--user) keywarden never saw the old secret: the old key is reactivated
and the targets keep the new key, which stays active.

Without ROTATION-ID, the most recent open rotation is undone. 'keywarden rotate status'
lists the ids.

Exit status: 0 undone, 2 no open rotation to undo (or none with that id), or an undo that failed.`,
		Example: "  keywarden rotate undo\n  keywarden rotate undo rot-20261123T161400Z-1a2b3c4d",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := "" // the most recent
			if len(args) == 1 {
				id = args[0]
			}
			return runRotateUndo(cmd.Context(), *opts, id, caller, deps)
		},
	}
	stateFlags(cmd.Flags(), opts)
	addProfile(cmd.Flags(), &caller, "for a service user's rotation: the profile making the IAM calls")
	return cmd
}

func runRotateUndo(ctx context.Context, opts rotateOptions, id, caller string, deps Deps) error {
	s, err := rotateSession(opts, deps)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	open, err := rotate.List(ctx, s.DB, true)
	if err != nil {
		return err
	}
	r, err := rotate.Pick(open, id)
	if err != nil {
		return usageErr(err)
	}
	return s.Undo(ctx, r, caller)
}
