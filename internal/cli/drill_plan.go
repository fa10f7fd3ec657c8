package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/drill"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/watch"
)

const drillPlanLong = `Write the incident-response plan of this account, from what keywarden knows of it:

  - the high-blast-radius keys, worst first: the active keys whose holder is an administrator
    or holds dangerous rights, as keywarden audit judges them (KW-KEY-ADMIN, KW-KEY-DANGEROUS),
    then by the number of dangerous rights, by age and by last use; with the key's age and last
    use, and its owner, read from the user's tags (owner, team, email, contact, maintainer, or
    any tag whose value is an email address), else "no owner";
  - who gets the alerts: watch's sinks are flags of 'keywarden watch' (and the Lambda's SNS topic
    a parameter of its stack), so the plan knows only the --sink values given to it, checked as
    watch checks them; a webhook's or Slack's URL is shown by its host only (its path is a
    credential). None given: "no sink configured";
  - for each key, the exact 'keywarden respond' command of each step of the practice: identify
    (plan only), invalidate (respond --apply deactivates the key; with --quarantine for an
    administrator, with --disable-console for a console user), revoke temporary credentials
    (done by the same run: every session minted before it is denied), restore access (a new
    key with --replace-to TARGET), review (the key's CloudTrail activity, with the trail's
    bucket when a trail has one);
  - what is not yet covered: no multi-region trail, a region no trail logs, no sink, keys without
    an owner, a root access key, no canary registered and no drill run (both from the state
    database, when there is one).

The plan holds key ids and user names, never a secret. It reads the account as 'keywarden audit'
does (the same read-only IAM actions, docs/iam.md); the keys of registered canaries are left out.
With --org it writes a plan per ACTIVE account of the organization, each read through
--role-name as 'keywarden audit --org' reads them (md: one after the other; json: an array;
html: one page); an account that could not be read gets a plan saying so.

Exit status: 0 written, 2 error (nothing written), 3 incomplete: written, but some of the account
could not be read (the plan and one line on stderr name what; a key or a trail there is unknown).`

// drillPlanOptions is everything `keywarden drill plan` was told.
type drillPlanOptions struct {
	profile, region, statePath, output string
	sinks, regions                     []string
	format                             *formatFlag
	scope                              auditaws.Scope // --org, --role-name, --org-concurrency
}

func newDrillPlanCmd(deps Deps) *cobra.Command {
	var opts drillPlanOptions
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Write this account's incident-response plan: risky keys, owners, alerts, respond commands, gaps",
		Long:  drillPlanLong,
		Example: `  keywarden drill plan
  keywarden drill plan --sink slack:https://hooks.slack.com/services/... --format html -o plan.html
  keywarden drill plan --profile responder --format json`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	opts.format = addFormat(cmd, f, "plan format", drill.PlanFormats...)
	addProfile(f, &opts.profile, "AWS profile to read the account with (read-only is enough); also put in every respond command: the responder's")
	addRegion(f, &opts.region, "AWS region for IAM and STS (given to every respond command)")
	addRegions(f, &opts.regions, "read the regional facts (regions without a trail, embedded keys, analyzers) in these regions only")
	addState(f, &opts.statePath, ": the canaries and drills it counts")
	f.StringArrayVar(&opts.sinks, "sink", nil, "a sink 'keywarden watch --sink' sends alerts to (repeatable): text, jsonl[:PATH], webhook:URL, slack:URL, sns:TOPIC_ARN")
	f.StringVarP(&opts.output, "output", "o", "", "write the plan to FILE")
	f.BoolVar(&opts.scope.Org, "org", false, "a plan per ACTIVE account of the caller's AWS Organization, read as 'keywarden audit --org' reads them (run from the management account)")
	f.StringVar(&opts.scope.RoleName, "role-name", auditaws.DefaultOrgRole, "with --org: the role assumed in each member account")
	f.IntVar(&opts.scope.Concurrency, "org-concurrency", auditaws.DefaultOrgConcurrency, "with --org: how many accounts are read at once")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return runDrillPlan(cmd.Context(), opts, deps) }
	return cmd
}

// runDrillPlan checks the sinks, reads and judges the account as audit
// does, counts the canaries and drills of the state, and writes the plan.
func runDrillPlan(ctx context.Context, opts drillPlanOptions, deps Deps) error {
	if err := checkSinks(opts.sinks, deps); err != nil {
		return err
	}
	switch {
	case opts.scope.Concurrency < 1:
		return usageErr(fmt.Errorf("--org-concurrency %d: want a positive number", opts.scope.Concurrency))
	case opts.scope.RoleName == "":
		return usageErr(errors.New("--role-name: want a role name"))
	}
	facts, err := planStateFacts(ctx, opts.statePath, deps)
	if err != nil {
		return err
	}
	facts.Sinks, facts.Profile, facts.Region = opts.sinks, opts.profile, opts.region
	read := auditOptions{profile: opts.profile, region: opts.region, statePath: opts.statePath, scope: opts.scope}
	read.scope.Regions = opts.regions
	read.judge.Org, read.judge.Role = opts.scope.Org, opts.scope.RoleName
	res, err := auditAccounts(ctx, read, deps)
	if err != nil {
		return err
	}
	render := func(w io.Writer, _ bool) error {
		if opts.scope.Org {
			return drill.WritePlans(w, opts.format.value, drill.NewPlans(res, facts, deps.Now()))
		}
		return drill.WritePlan(w, opts.format.value, drill.NewPlan(res, facts, deps.Now()))
	}
	if err := writeOutput(deps, opts.output, 0o644, render); err != nil {
		return err
	}
	return incomplete(len(res.Incomplete), strings.Replace(unreadSummary(res), "the report", "the plan", 1), false)
}

// checkSinks refuses a --sink that watch would refuse, with watch's own
// parser. A jsonl file is not opened (that would create it): any path will
// do for the plan.
func checkSinks(specs []string, deps Deps) error {
	env := watch.SinkEnv{Stdout: io.Discard, Getenv: deps.Getenv, SNS: func(string) watch.Publisher { return nil }}
	for _, spec := range specs {
		if kind, path, _ := strings.Cut(spec, ":"); kind == "jsonl" && path != "" {
			continue
		}
		sink, err := watch.ParseSink(spec, env)
		if err != nil {
			return usageErr(fmt.Errorf("--sink: %w", err))
		}
		if err := sink.Close(); err != nil {
			return fmt.Errorf("--sink: %w", err)
		}
	}
	return nil
}

// planStateFacts counts the registered canaries and the drills run, from
// the state database when there is one (none: none of either).
func planStateFacts(ctx context.Context, path string, deps Deps) (drill.Facts, error) {
	var facts drill.Facts
	open := func(p string) (*state.DB, error) {
		db, err := deps.OpenState(p)
		if err != nil {
			return nil, err
		}
		drills, err := db.List(ctx, drill.Kind, state.Filter{})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("list drills: %w", err), db.Close())
		}
		facts.StateRead, facts.Drills = true, len(drills)
		return db, nil
	}
	reg, err := canary.LoadExisting(ctx, path, open) // opens the database only where it exists
	if err != nil {
		return facts, err
	}
	facts.Canaries = reg.Len()
	return facts, nil
}
