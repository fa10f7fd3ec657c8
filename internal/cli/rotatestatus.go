package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/state"
)

func newRotateStatusCmd(deps Deps, opts *rotateOptions) *cobra.Command {
	var all bool
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List rotations still open: waiting to delete an old key, kept, stuck or interrupted",
		Long: `List the rotations of keywarden's state database that are still open: old keys waiting for
their grace period to end (a later 'keywarden rotate' deletes them), old keys kept because
they were used after deactivation, rotations stuck on a target that cannot be restored, and
runs that were interrupted (the next 'keywarden rotate' of that user resumes them).
--all lists finished rotations too. Nothing secret is shown.

Exit status: 0 listed (none open included), 2 usage or runtime error.`,
		Example: "  keywarden rotate status\n  keywarden rotate status --all --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErr(fmt.Errorf("--format %q: want text or json", format))
			}
			s, err := openRotateSession(*opts, deps)
			if err != nil {
				return err
			}
			defer s.db.Close()
			rs, err := s.rotations(cmd.Context(), !all)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeRotationsJSON(deps, rs)
			}
			return writeRotationsText(deps, rs)
		},
	}
	stateFlags(cmd.Flags(), opts)
	cmd.Flags().BoolVar(&all, "all", false, "list finished rotations too")
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text|json")
	return cmd
}

// rotations lists the journal's rotations, oldest first.
func (s *rotateSession) rotations(ctx context.Context, openOnly bool) ([]*rotate.Rotation, error) {
	recs, err := s.db.List(ctx, rotate.Kind, state.Filter{OpenOnly: openOnly})
	if err != nil {
		return nil, err
	}
	out := make([]*rotate.Rotation, 0, len(recs))
	for _, rec := range recs {
		r, err := rotate.Load(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func writeRotationsText(deps Deps, rs []*rotate.Rotation) error {
	if len(rs) == 0 {
		fmt.Fprintln(deps.Stdout, "no open rotations")
		return nil
	}
	tw := tabwriter.NewWriter(deps.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tUSER\tSTEP\tOLD KEY\tNEW KEY\tDELETE AFTER\tNOTE")
	for _, r := range rs {
		deleteAfter := "-"
		if !r.DeleteAfter.IsZero() && r.Step == rotate.StepDeactivated {
			deleteAfter = r.DeleteAfter.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Account, r.User, r.Step,
			cmpOr(r.OldKeyID, "-"), cmpOr(r.NewKeyID, "-"), deleteAfter, cmpOr(r.Note, "-"))
	}
	return tw.Flush()
}

// rotationJSON is one rotation in `rotate status --format json`.
type rotationJSON struct {
	ID   string `json:"id"`
	Step string `json:"step"`
	*rotate.Rotation
}

func writeRotationsJSON(deps Deps, rs []*rotate.Rotation) error {
	out := make([]rotationJSON, 0, len(rs))
	for _, r := range rs {
		out = append(out, rotationJSON{ID: r.ID, Step: string(r.Step), Rotation: r})
	}
	enc := json.NewEncoder(deps.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
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
			s, err := openRotateSession(*opts, deps)
			if err != nil {
				return err
			}
			defer s.db.Close()
			return s.undo(cmd.Context(), args, caller)
		},
	}
	stateFlags(cmd.Flags(), opts)
	cmd.Flags().StringVar(&caller, "profile", "", "for a service user's rotation: the profile making the IAM calls")
	return cmd
}

func (s *rotateSession) undo(ctx context.Context, args []string, callerProfile string) error {
	open, err := s.rotations(ctx, true)
	if err != nil {
		return err
	}
	i := len(open) - 1
	if len(args) == 1 {
		i = slices.IndexFunc(open, func(r *rotate.Rotation) bool { return r.ID == args[0] })
	}
	if i < 0 {
		if len(args) == 1 {
			return usageErr(fmt.Errorf("no open rotation %s ('keywarden rotate status --all' lists them)", args[0]))
		}
		return usageErr(fmt.Errorf("no open rotation to undo"))
	}
	r := open[i]
	admin, cfg, err := s.undoAdmin(ctx, r, callerProfile)
	if err != nil {
		return err
	}
	if err := s.rotator(admin, cfg).Undo(ctx, r); err != nil {
		return err
	}
	fmt.Fprintf(s.deps.Stdout, "undid %s: key %s of %s is active again\n", r.ID, r.OldKeyID, r.User)
	return nil
}

// undoAdmin signs an undo: a profile rotation with the key its profile now
// holds, a service user's with the caller's credentials.
func (s *rotateSession) undoAdmin(ctx context.Context, r *rotate.Rotation, callerProfile string) (*rotateaws.IAM, aws.Config, error) {
	if r.Profile == "" {
		cfg, err := awsx.Load(ctx, awsx.Options{Profile: callerProfile, Region: s.opts.region})
		if err != nil {
			return nil, cfg, err
		}
		return rotateaws.New(cfg), cfg, nil
	}
	p, _, _, err := s.profileKey(r.Profile)
	if err != nil {
		return nil, aws.Config{}, err
	}
	return s.profileAdmin(ctx, p, credential.Key{ID: p.AccessKeyID, Secret: p.SecretAccessKey})
}
