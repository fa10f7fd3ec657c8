package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
)

// policyApplyOptions are the flags diff, apply, undo and list share.
type policyApplyOptions struct {
	profile   string
	statePath string
}

func (o *policyApplyOptions) flags(cmd *cobra.Command, aws, state bool) {
	if aws {
		addProfile(cmd.Flags(), &o.profile, "AWS profile whose credentials read and change the principal's policies (default: the SDK's)")
	}
	if state {
		addState(cmd.Flags(), &o.statePath, ", which journals the applies")
	}
}

func newPolicyDiffCmd(d Deps) *cobra.Command {
	var opts policyApplyOptions
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "diff SUGGESTION.json",
		Short: "Compare what a principal holds with a suggested policy, by service",
		Long: `Read the suggestion 'keywarden policy suggest --format json' wrote and the principal's current
policies (attached managed policies, inline policies and, for a user, its groups' policies) and
list, by service, each grant as removed (held now, not in the suggestion), added (in the
suggestion, not held now: none unless the current policies never allowed an observed call) or
unchanged. Group policies count here but 'policy apply' leaves groups as they are: their grants
stay after an apply. --format json prints {"principal","policies","groups_kept","services":[...]}.

Exit status: 0 compared, 2 usage error, an unreadable suggestion or a failure to read the policies.`,
		Example: "  keywarden policy diff app.json\n  keywarden policy diff app.json --format json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := readSuggestionFile(args[0])
			if err != nil {
				return err
			}
			e, done, err := policyApplyEngine(cmd.Context(), d, opts, true, false)
			if err != nil {
				return err
			}
			defer done()
			cur, err := e.IAM.Current(cmd.Context(), s.Principal)
			if err != nil {
				return err
			}
			diff, err := policy.Compare(cur, s)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if format.value == "json" {
				return writePolicyJSON(d.Stdout, diff)
			}
			writeDiff(d.Stdout, diff)
			return nil
		},
	}
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	opts.flags(cmd, true, false)
	return cmd
}

func newPolicyApplyCmd(d Deps) *cobra.Command {
	var opts policyApplyOptions
	var yes bool
	var keep int
	cmd := &cobra.Command{
		Use:   "apply SUGGESTION.json",
		Short: "Swap a principal's policies for the suggested one, journaled for undo",
		Long: `Replace the principal's own policies with the suggested policy. First the journal records the
snapshot: every attached managed policy ARN (for customer managed ones the default version id),
every inline policy's name and document as IAM returns it. Then, each step journaled before its
IAM calls: create the customer managed policy keywarden-lp-NAME under /keywarden/ (tagged with the
apply's id), attach it, detach the old managed policies, delete the inline policies. Group
memberships and group policies are not changed (see 'policy diff'); a permissions boundary stays.

Refused before any change (exit 2, one line): a suggested policy that denies an action the
suggestion's evidence shows used in the last --keep-days days (each action on each of its
resources, evaluated against the new document); a suggestion made on policies that changed since
(when it carries their fingerprint); a keywarden-lp-NAME policy that exists. An apply killed
midway is finished by running the command again, or reverted with 'keywarden policy undo ID'.

Exit status: 0 applied (or an interrupted apply finished), 2 usage error, a refusal (nothing
changed), not confirmed, or a failure (run it again to finish, or undo).`,
		Example: "  keywarden policy apply app.json --yes\n  keywarden policy apply app.json --yes --keep-days 90",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keep < 0 {
				return usageErr(fmt.Errorf("--keep-days %q: want 0 or more days", fmt.Sprint(keep)))
			}
			s, err := readSuggestionFile(args[0])
			if err != nil {
				return err
			}
			e, done, err := policyApplyEngine(cmd.Context(), d, opts, true, true)
			if err != nil {
				return err
			}
			defer done()
			if !d.confirm(yes, fmt.Sprintf("replace the policies of %s %s with %s?", s.Principal.Type, s.Principal.Name, policy.PolicyName(s.Principal))) {
				return fmt.Errorf("policy apply %s: not confirmed; nothing changed", args[0])
			}
			a, err := e.Apply(cmd.Context(), s, policy.ApplyOptions{KeepDays: keep})
			if err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, "applied %s: %s %s holds %s (instead of %s); undo with 'keywarden policy undo %s'\n",
				a.ID, a.Principal.Type, a.Principal.Name, a.ARN, heldPolicies(a.Before), a.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "apply without asking")
	cmd.Flags().IntVar(&keep, "keep-days", 30, "refuse a policy that denies an action used within this many days")
	opts.flags(cmd, true, true)
	return cmd
}

func newPolicyUndoCmd(d Deps) *cobra.Command {
	var opts policyApplyOptions
	cmd := &cobra.Command{
		Use:   "undo ID",
		Short: "Put a principal's policies back as they were before an apply",
		Long: `Put back the snapshot the apply ID journaled: the inline policies with their documents byte for
byte, every managed policy attached again (customer managed ones at their default version), then
the keywarden policy detached and deleted with its versions. Journaled and idempotent: an undo
killed midway is finished by running it again; an apply killed midway is undone too.

Exit status: 0 undone, 2 usage error, no apply ID, already undone, or a failure (run it again).`,
		Example: "  keywarden policy undo lp-20261203T150000Z-1a2b3c4d",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, done, err := policyApplyEngine(cmd.Context(), d, opts, true, true)
			if err != nil {
				return err
			}
			defer done()
			a, err := e.Undo(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, "undone %s: %s %s holds %s again; %s deleted\n", a.ID, a.Principal.Type,
				a.Principal.Name, heldPolicies(a.Before), a.Name)
			return nil
		},
	}
	opts.flags(cmd, true, true)
	return cmd
}

func newPolicyListCmd(d Deps) *cobra.Command {
	var opts policyApplyOptions
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the applies journaled, with their state",
		Long: `List the applies of keywarden's state database: id, principal, the keywarden policy and the
state (applied, undone, or the step an interrupted apply or undo reached). No AWS call is made.

Exit status: 0 listed (none included), 2 usage error or an unreadable state database.`,
		Example: "  keywarden policy list\n  keywarden policy list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := policyApplyEngine(cmd.Context(), d, opts, false, true)
			if err != nil {
				return err
			}
			defer done()
			list, err := e.List(cmd.Context())
			if err != nil {
				return err
			}
			if format.value == "json" {
				type view struct {
					ID    string `json:"id"`
					State string `json:"state"`
					*policy.Applied
				}
				out := make([]view, 0, len(list))
				for _, a := range list {
					out = append(out, view{a.ID, a.Step, a})
				}
				return writePolicyJSON(d.Stdout, out)
			}
			tw := tabwriter.NewWriter(d.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPRINCIPAL\tPOLICY\tSTATE\tAT")
			for _, a := range list {
				fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\n", a.ID, a.Principal.Type, a.Principal.Name, a.Name, a.Step,
					a.At.UTC().Format("2006-01-02T15:04:05Z"))
			}
			return tw.Flush()
		},
	}
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	opts.flags(cmd, false, true)
	return cmd
}

// heldPolicies says what a snapshot holds: "2 managed and 1 inline policies".
func heldPolicies(c policy.Current) string {
	n := len(c.Attached) + len(c.Inline)
	noun := "policies"
	if n == 1 {
		noun = "policy"
	}
	return fmt.Sprintf("%d managed and %d inline %s", len(c.Attached), len(c.Inline), noun)
}

func readSuggestionFile(path string) (policy.Suggestion, error) {
	return readContract(path, "suggestion", policy.ParseSuggestion)
}

// readContract reads a file one verb wrote for another (a suggestion, a
// retire plan) and parses it; what names it in the error.
func readContract[T any](path, what string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	b, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", what, path, errors.Unwrap(err))
	}
	v, err := parse(b)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func policyApplyEngine(ctx context.Context, d Deps, o policyApplyOptions, aws, state bool) (*policy.Engine, func(), error) {
	e := &policy.Engine{Now: d.Now}
	done := func() {}
	if state {
		db, err := d.OpenState(o.statePath)
		if err != nil {
			return nil, nil, err
		}
		e.DB, done = db, func() { db.Close() }
	}
	if aws {
		cfg, err := d.LoadAWS(ctx, awsx.Options{Profile: o.profile})
		if err != nil {
			done()
			return nil, nil, err
		}
		e.IAM = policyaws.New(cfg)
	}
	return e, done, nil
}

func writePolicyJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeDiff prints a diff: a header, then per service "-" removed, "+"
// added, "=" unchanged.
func writeDiff(w io.Writer, d policy.Diff) {
	removed, added, unchanged := d.Counts()
	fmt.Fprintf(w, "%s %s: %d removed, %d added, %d unchanged\n", d.Principal.Type, d.Principal.Name, removed, added, unchanged)
	for _, s := range d.Services {
		fmt.Fprintf(w, "%s\n", s.Service)
		for _, l := range []struct {
			mark string
			gs   []policy.Grant
		}{{"-", s.Removed}, {"+", s.Added}, {"=", s.Unchanged}} {
			for _, g := range l.gs {
				fmt.Fprintf(w, "  %s %s on %s", l.mark, g.Action, g.Resource)
				if l.mark == "-" {
					fmt.Fprintf(w, " (%s)", g.Source)
				}
				fmt.Fprintln(w)
			}
		}
	}
	if len(d.Groups) > 0 {
		fmt.Fprintf(w, "kept as they are by apply: the policies of group %s\n", strings.Join(d.Groups, ", group "))
	}
}
