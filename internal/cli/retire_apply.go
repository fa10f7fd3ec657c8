package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/retire/retireaws"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/rotate/schedule"
)

// retireApplyOptions are the flags apply, finish, undo and list share.
type retireApplyOptions struct {
	profile   string
	statePath string
}

func (o *retireApplyOptions) flags(cmd *cobra.Command, aws bool) {
	if aws {
		addProfile(cmd.Flags(), &o.profile, "AWS profile of the key's account, whose credentials make the IAM calls (default: the SDK's)")
	}
	addState(cmd.Flags(), &o.statePath, ", which journals the retirements")
}

// retireApplier opens the state database and, with aws, the IAM adapters.
func retireApplier(ctx context.Context, d Deps, o retireApplyOptions, aws bool) (*retire.Applier, func(), error) {
	db, err := d.OpenState(o.statePath)
	if err != nil {
		return nil, nil, err
	}
	a := &retire.Applier{DB: db, Now: d.Now, Out: d.Stderr}
	if aws {
		cfg, err := d.LoadAWS(ctx, awsx.Options{Profile: o.profile})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		a.IAM, a.Keys = retireaws.New(cfg), rotateaws.New(cfg)
	}
	return a, func() { db.Close() }, nil
}

func newRetireApplyCmd(d Deps) *cobra.Command {
	var opts retireApplyOptions
	var yes bool
	cmd := &cobra.Command{
		Use:   "apply PLAN.json --yes",
		Short: "Build each key's replacement (OIDC provider, role, instance profile) and mark the key retiring",
		Long: `Build what each key of the plan ('retire plan --format json') needs in place of the key, in
the account of the current credentials: for a GitHub or GitLab workflow the OIDC identity
provider (https://token.actions.githubusercontent.com with client id sts.amazonaws.com, or
https://gitlab.com; an existing provider of that URL is used, and never removed by undo), then
the role with the plan's trust policy and, as its inline policy keywarden-retire, the plan's
permissions (policy suggest's document, never a copy of the user's policies), and for a
workload on EC2 an instance profile of the role's name holding the role. Everything created
is tagged keywarden-retire=retire-KEYID. A key whose plan is delete gets nothing built.

Each step is journaled in the state database before its IAM call, so an apply killed midway is
finished by running it again (what a killed run made is found again by its tag; nothing is made
twice), or reverted with 'keywarden retire undo'. Applying a plan twice changes nothing more.

Then apply prints the exact change each consumer needs, the plan's instructions with the role's
ARN as IAM gave it: the workflow snippet with aws-actions/configure-aws-credentials and
role-to-assume, the GitLab job's id_tokens and AWS_ROLE_ARN, the 'aws ec2
associate-iam-instance-profile' command, the task definition's taskRoleArn, the function's role;
and records the key as retiring from now. The key keeps
working: 'keywarden retire finish' deactivates it once it stays unused for the window.

Refused before any change (exit 2, one line): no --yes; a plan that still holds <FILL-IN> (the
repository, which CloudTrail does not name: 'retire plan --repo owner/name'); an OIDC trust
policy without a StringEquals on the audience or a sub condition that pins one repository (a
bare "*" or a wildcard in owner/name is refused); a third party's role without sts:ExternalId;
a plan for another account than the credentials'; a role or instance profile of that name that
is not tagged as this retirement's; a plan without permissions; a key whose undo is unfinished;
an existing OIDC provider of the issuer without the trust policy's audience (the refusal names
the aws command that adds it: apply changes no provider it did not make).

Exit status: 0 applied (or an interrupted apply finished), 2 usage error, a refusal (nothing
changed), or a failure (run it again to finish, or undo).`,
		Example: "  keywarden retire plan --key AKIA... trail/ --repo acme/shop --format json > plan.json\n" +
			"  keywarden retire apply plan.json --yes",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readRetirePlan(args[0])
			if err != nil {
				return err
			}
			if !yes {
				return usageErr(fmt.Errorf("retire apply %s changes IAM: read the plan, then give --yes; nothing changed", args[0]))
			}
			a, done, err := retireApplier(cmd.Context(), d, opts, true)
			if err != nil {
				return err
			}
			defer done()
			res, err := a.Apply(cmd.Context(), p)
			for _, r := range res {
				writeApplied(d.Stdout, r)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "apply the plan (without it nothing is changed)")
	opts.flags(cmd, true)
	return cmd
}

// readRetirePlan reads and parses the plan file.
func readRetirePlan(path string) (retire.Plan, error) {
	return readContract(path, "retire plan", retire.ParsePlan)
}

// writeApplied says what apply built for one key and the change its
// consumer needs.
func writeApplied(w io.Writer, a retire.Applied) {
	r := a.Retirement
	if a.Skipped != "" {
		fmt.Fprintf(w, "%s (%s): skipped: %s\n", r.AccessKeyID, r.User, a.Skipped)
		return
	}
	built := "nothing to build"
	if r.RoleARN != "" {
		built = "role " + r.RoleARN
	}
	if r.ProfileARN != "" {
		built += ", instance profile " + r.ProfileARN
	}
	if r.ProviderARN != "" {
		built += ", trusting " + r.ProviderARN
	}
	verb := "applied"
	if a.Resumed {
		verb = "applied (already, or an interrupted apply finished)"
	}
	fmt.Fprintf(w, "%s %s: key %s of %s (%s): %s; the key is retiring since %s\n",
		r.ID, verb, r.AccessKeyID, r.User, r.Class, built, r.RetiringAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "  change:\n%s", indentBlock(a.Change, "    "))
	fmt.Fprintf(w, "  then: keywarden retire finish %s (daily), or keywarden retire undo %s\n", r.ID, r.ID)
}

// indentBlock puts prefix before every non-empty line of s.
func indentBlock(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
	}
	return b.String()
}

func newRetireFinishCmd(d Deps) *cobra.Command {
	var opts retireApplyOptions
	var all bool
	var window, grace *spanFlag
	cmd := &cobra.Command{
		Use:   "finish (ID...|--all)",
		Short: "Deactivate, then delete, each retiring key once it stays unused and its role is used",
		Long: `Move each retirement on (ID is retire-KEYID or the key id; --all: every open one), one line each:

  1. while the key was used after apply (GetAccessKeyLastUsed), report it: its consumer has not
     changed yet; the quiet window counts from the last use;
  2. until the key has been unused for --window (default 14d) after apply, wait;
  3. if the role shows no use since apply (GetRole's RoleLastUsed), wait and say so: has the
     consumer changed? (a key whose plan is delete needs no role);
  4. deactivate the key (journaled first), as rotate does; 'keywarden retire undo' turns it back on;
  5. after --grace (default 7d; 0 deletes in the same run), delete it, unless it was used after
     it was deactivated: then it is kept and reported (rotate's own check).

Run it daily: 'keywarden retire schedule --install' installs a systemd user timer or a crontab
line that runs 'keywarden retire finish --all' once a day.

Exit status: 0 every retirement moved on or waiting, 1 a key was used after apply or after it
was deactivated (something still holds it: find it before it breaks), 2 usage error, no such
retirement, or a failure (run it again).`,
		Example: "  keywarden retire finish --all\n  keywarden retire finish retire-AKIA... --window 30d --grace 0",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usageErr(errors.New("retire finish: give retirement ids or --all (not both)"))
			}
			a, done, err := retireApplier(cmd.Context(), d, opts, true)
			if err != nil {
				return err
			}
			defer done()
			out, err := a.Finish(cmd.Context(), retire.FinishOptions{IDs: args, Window: window.d, Grace: grace.d})
			late := false
			for _, f := range out {
				fmt.Fprintf(d.Stdout, "%s: %s: %s\n", f.Retirement.ID, f.Did, finishNote(f))
				late = late || f.Late()
			}
			if err == nil && len(out) == 0 {
				fmt.Fprintln(d.Stdout, "no retirement to finish")
			}
			if err == nil && late {
				return errFindings
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every open retirement")
	window = addSpan(cmd.Flags(), "window", "14d", false, "how long the key must stay unused after apply before it is deactivated")
	grace = addSpan(cmd.Flags(), "grace", "7d", true, "how long the deactivated key waits before it is deleted; 0 deletes it at once")
	opts.flags(cmd, true)
	return cmd
}

func finishNote(f retire.Finished) string {
	if f.Note != "" {
		return f.Note
	}
	return "nothing to do (" + f.Step + ")"
}

// newRetireScheduleCmd is `keywarden retire schedule`: rotate's daily job
// machinery, running retire finish.
func newRetireScheduleCmd(d Deps) *cobra.Command {
	var install bool
	opts := schedule.Options{Verb: schedule.RetireFinish, At: schedule.TimeOfDay{Hour: 4, Minute: 17}}
	cmd := &cobra.Command{
		Use:   "schedule [--install] [--kind systemd|cron] [--at HH:MM] [-- FINISH ARGS...]",
		Short: "Print or install a daily job that runs keywarden retire finish",
		Long: `Print, or with --install install, a daily job that runs 'keywarden retire finish' with FINISH
ARGS (default: --all), so each retiring key is deactivated and deleted on time without anyone
remembering to. It is rotate's job machinery ('keywarden help rotate schedule' says it all):
the job runs this keywarden binary by its absolute path (install keywarden, do not schedule a
'go run' build); --kind systemd (the default where a user systemd instance runs) writes
~/.config/systemd/user/keywarden-retire.service and .timer, daily at --at (default 04:17) up
to 15 minutes later, Persistent=true; --kind cron prints one crontab line tagged
'# keywarden-retire' that appends to $XDG_STATE_HOME/keywarden/retire.log. Both sit beside
rotate's job. The job exits 1 when a key was used late: that is what to alert on.

Exit status: 0 printed or installed, 2 usage error or a failed install.`,
		Example: "  keywarden retire schedule\n  keywarden retire schedule --install --kind cron -- --all --window 30d",
		Args: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash != 0 && len(args) > 0 {
				return usageErr(fmt.Errorf("unexpected argument %q: put finish's arguments after --", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.Args = args
			}
			return runSchedule(cmd.Context(), opts, install, d)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&install, "install", false, "install the job instead of printing it")
	f.Var(engineFlag{&opts.Kind, "kind"}, "kind", "systemd or cron (default: systemd where a user systemd instance runs, else cron)")
	f.Var(engineFlag{&opts.At, "HH:MM"}, "at", "local time of day to run")
	return cmd
}

func newRetireUndoCmd(d Deps) *cobra.Command {
	var opts retireApplyOptions
	cmd := &cobra.Command{
		Use:   "undo ID",
		Short: "Remove what apply built and turn the key back on",
		Long: `Undo the retirement ID (retire-KEYID or the key id): turn the key back on if finish
deactivated it, then remove the instance profile, the role's inline policy and the role, and the
OIDC provider if apply created it and no other retirement trusts it. Only what carries the tag
keywarden-retire=ID is removed: a provider or role made by hand stays. What cannot be undone is
said: a key finish deleted does not come back (create a new one). An undo killed midway is
finished by running it again.

Exit status: 0 undone, 2 usage error, no such retirement (or undone already), or a failure
(run it again).`,
		Example: "  keywarden retire undo retire-AKIA...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, done, err := retireApplier(cmd.Context(), d, opts, true)
			if err != nil {
				return err
			}
			defer done()
			u, err := a.Undo(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, "undid %s\n", u.Retirement.ID)
			for _, s := range u.Removed {
				fmt.Fprintf(d.Stdout, "  %s\n", s)
			}
			for _, s := range u.Left {
				fmt.Fprintf(d.Stdout, "  not undone: %s\n", s)
			}
			return nil
		},
	}
	opts.flags(cmd, true)
	return cmd
}

func newRetireListCmd(d Deps) *cobra.Command {
	var opts retireApplyOptions
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the retirements and the state each reached",
		Long: `List the retirements of keywarden's state database: id, key, user, class, state (retiring,
deactivated, kept, retired, undone, or the step an interrupted apply or undo reached), the
role, since when the key is retiring, and the last run's note. No AWS call is made.

Exit status: 0 listed (none included), 2 usage error or an unreadable state database.`,
		Example: "  keywarden retire list\n  keywarden retire list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, done, err := retireApplier(cmd.Context(), d, opts, false)
			if err != nil {
				return err
			}
			defer done()
			list, err := a.List(cmd.Context())
			if err != nil {
				return err
			}
			if format.value == "json" {
				return writeRetirementsJSON(d.Stdout, list)
			}
			return writeRetirementsTable(d.Stdout, list)
		},
	}
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	opts.flags(cmd, false)
	return cmd
}

// retirementJSON is a retirement as list --format json prints it.
type retirementJSON struct {
	retire.Retirement
	State string `json:"state"`
}

func writeRetirementsJSON(w io.Writer, list []retire.Entry) error {
	out := make([]retirementJSON, 0, len(list))
	for _, e := range list {
		out = append(out, retirementJSON{Retirement: e.Retirement, State: e.Step})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeRetirementsTable(w io.Writer, list []retire.Entry) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no retirements")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tCLASS\tSTATE\tROLE\tRETIRING SINCE\tNOTE")
	for _, e := range list {
		r := e.Retirement
		since := "-"
		if !r.RetiringAt.IsZero() {
			since = r.RetiringAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.User, r.Class, e.Step, orDash(r.RoleARN), since, orDash(r.Note))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
