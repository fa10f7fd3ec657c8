package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/clock"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"

	// aliased: the respond tests of this package have a type drill
	"github.com/keywarden/keywarden/internal/drill"
	"github.com/keywarden/keywarden/internal/drill/drillaws"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/watch"
)

const drillLong = `'drill plan' writes the account's incident-response plan; 'drill run' tests it.

Test the incident-response chain end to end with a harmless key of the drill's own, and
measure it: time to detect (first attacker call to first alert), to notify (to the alert's
delivery by the team's sink, when it says when), to contain, to recover.

A drill creates an IAM user keywarden-drill-<id>, tagged keywarden-drill=<id>, whose inline
policy allows only sts:GetCallerIdentity, sts:GetSessionToken, ses:GetSendQuota and read-only
listings, and one access key; leaks the key into a scratch git repository (committed, then
deleted) that keywarden scan must find in history (and, for an exposed .git/, through
'keywarden scan --url'); detonates an attacker's calls with it (the drill id in each call's user agent); waits
for watch to raise the expected alerts from the source; contains the key (respond --apply,
watch's --respond, or the team's own watch) and checks the key and a session minted before
are refused; checks respond's review lists every detonated call and nothing else; and removes
everything, verified by listing. Each step is journaled in the state database before it acts.`

func newDrillCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Plan the incident response, and drill it with a harmless key, timing each step",
		Long:  drillLong + "\n\nExit status: that of the subcommand (0 for this help), 2 for an unknown one.",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newDrillPlanCmd(d), newDrillRunCmd(d), newDrillCleanupCmd(d), newDrillHistoryCmd(d))
	return cmd
}

type drillOptions struct {
	profile, statePath string
}

func (o *drillOptions) flags(cmd *cobra.Command, aws bool) {
	if aws {
		addProfile(cmd.Flags(), &o.profile, "AWS profile whose credentials create, contain and remove the drill user (default: the SDK's)")
	}
	addState(cmd.Flags(), &o.statePath, ", which journals the drills")
}

func newDrillRunCmd(d Deps) *cobra.Command {
	var opts drillOptions
	var account, scenario, source, containBy, alerts string
	var responds []string
	var yes bool
	var wait, poll time.Duration
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "run --account ID --yes",
		Short: "Run a drill: create, leak, detonate, detect, contain, review, clean up",
		Long: drillLong + `

--account must be the account id of the credentials (STS says which) and --yes must be given:
otherwise the drill is refused before any change. --scenario is a built-in scenario or a YAML file:

  seed-001       a key committed to a public repository and deleted, probed and readied for SES abuse
  stolen-laptop  a laptop's ~/.aws/credentials; the thief mints a session to outlive the key
  ci-leak        a key pasted into a GitHub Actions workflow, moved to secrets a commit later
  exposed-git    a site deployed with its .git/: the repository is served on loopback and
                 keywarden scan --url must find the key through it

  name: my-scenario
  leak: repo-history  # or laptop, ci-workflow
  expose_git: true    # also serve the repository's .git/ on 127.0.0.1 for the leak step only
  calls:              # service and action; region (optional); session: true signs with the
    - {service: sts, action: GetCallerIdentity}   # session of an earlier GetSessionToken
    - {service: ses, action: GetSendQuota, region: ap-southeast-3}
  expect_alerts: [KW-CT-SES-RECON]
  timeline:           # budgets (Go durations); a step over one fails, measured vs expected
    detect: 15m       # time to detect, checked at the end of the detect step
    contain: 20m      # time to contain, at the end of contain
    recover: 30m      # time to recover, at the end of cleanup
    steps: {leak: 30s, detect: 16m}   # a step's own duration

An unknown field, a value that is not a duration or a step that does not exist is refused in
one line. The calls a drill makes: sts GetCallerIdentity, GetSessionToken; iam ListUsers,
ListRoles, CreateUser, CreateAccessKey (denied by the drill policy); s3 ListBuckets; ses
GetSendQuota. The exposed .git/ is served under a random 128-bit path prefix (a token, never
printed nor journaled) while the leak step scans it, then closed.

--source is any watch source (lookup:, a trail bucket s3://..., a directory of log files): the
detect step reads it every --poll until the expected alerts fire or --wait passes. CloudTrail
delivers to S3 in about 5 minutes and LookupEvents in up to 15: give --wait room. With
--alerts FILE the detect step runs no watch of its own: it reads, every --poll, the alerts the
team's own watch writes to FILE (keywarden watch --follow --sink jsonl:FILE); --source is then
only respond's review source. With --alerts sns:TOPIC_ARN (the topic of watch's Lambda mode or
of watch --sink sns:TOPIC_ARN) the drill creates, for its life only, an SQS queue
keywarden-drill-<id> in the topic's region, tagged keywarden-drill=<id>, whose policy lets only
that topic send, and subscribes it to the topic (raw message delivery off); the detect step
long-polls it at each poll (up to --poll or --wait, at most 20s) and cleanup removes the subscription and
the queue, verified by listing. The time to notify is then measured too: first call to SNS's
delivery of the first expected alert (a jsonl sink writes no delivery time: not measured).

Containment: by default the drill runs respond --apply on its key. With --respond RULE=contain
(as watch's) the detect step's watch pipeline contains the drill key on an alert of RULE, as
'keywarden watch --respond' does (alerts on other keys are not acted on); with --contain team
the drill contains nothing and waits, up to --wait, until IAM lists its key Inactive (the
team's Lambda or watch --follow --respond did it). Either way the time to contain is when the
key was shut, and the contain step fails, saying why, when nobody shut it.

The report (--format md, json or html) has each step's verdict with its evidence, the
timeline of detonated calls, the times, and the comparison with the previous drill. A drill
stopped by an error or a crash is finished by 'keywarden drill cleanup ID'.

Exit status: 0 every step passed, 1 a step failed (the report says which and why), 2 usage
error, refused (no --yes, another account) or an error (what the drill made is removed; if
not, the line names the cleanup command), 3 incomplete (a step could not be run: the source
could not be read).`,
		Example: "  keywarden drill run --account 123456789012 --yes\n" +
			"  keywarden drill run --account 123456789012 --yes --source s3://trail-bucket/AWSLogs/ --wait 20m --format json\n" +
			"  keywarden drill run --account 123456789012 --yes --scenario exposed-git --respond KW-CT-SES-RECON=contain\n" +
			"  keywarden drill run --account 123456789012 --yes --scenario game-day.yaml --contain team\n" +
			"  keywarden drill run --account 123456789012 --yes --alerts sns:arn:aws:sns:eu-west-1:123456789012:keywarden-alerts --contain team",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if account == "" {
				return usageErr(errors.New("--account ID is required: the account id the drill runs in, as a check against the wrong credentials"))
			}
			if !yes {
				return usageErr(fmt.Errorf("drill run creates an IAM user and key in account %s: give --yes to run it", account))
			}
			sc, err := drill.LoadScenario(scenario)
			if err != nil {
				return usageErr(err)
			}
			topic, isTopic := strings.CutPrefix(alerts, "sns:")
			if !isTopic {
				topic = ""
			} else if err := watch.CheckTopic(topic); err != nil {
				return usageErr(fmt.Errorf("--alerts %q: want sns:TOPIC_ARN (arn:aws:sns:REGION:ACCOUNT:NAME), the topic the team's watch publishes to", alerts))
			}
			rules, err := watch.ContainRules(responds)
			if err != nil {
				return usageErr(err)
			}
			if containBy, err = drillContainment(containBy, cmd.Flags().Changed("contain"), len(rules) > 0, alerts != ""); err != nil {
				return usageErr(err)
			}
			ctx := cmd.Context()
			e, cfg, done, err := drillEngine(ctx, d, opts)
			if err != nil {
				return err
			}
			defer done()
			warn := newWarner(d.Stderr)
			defer warn.flush()
			w := drill.Watch{Source: watch.NewSource(source, watch.SourceEnv{Stdin: d.Stdin, Now: d.Now,
				Objects: cloudtrailaws.S3Opener(cfg), Lookup: cloudtrailaws.NewLookup(cfg)}), Now: d.Now, Warn: warn.add, Respond: rules, Out: d.Stderr}
			if len(rules) > 0 { // watch's own hook: a responder of its own, without events, as watch --respond
				w.Contain = (&respond.Responder{IAM: respondaws.New(cfg), DB: e.DB, Out: d.Stderr, Now: d.Now}).Contain
				if err := w.Check(); err != nil {
					return usageErr(err)
				}
			}
			e.Detect = w
			switch {
			case topic != "":
				e.Detect = &drill.TopicAlerts{Inbox: drillaws.New(cfg), Wait: min(poll, wait, 20*time.Second), Warn: warn.add}
			case alerts != "":
				e.Detect = drill.AlertLog{Path: alerts, Warn: warn.add}
			}
			src := &respond.Sources{Objects: cloudtrailaws.S3Opener(cfg), Warn: warn.add}
			if lookup, ok := cutLookup(source); ok {
				src.Lookup, src.Regions = cloudtrailaws.NewLookup(cfg), lookup
			} else {
				src.Logs = []string{source}
			}
			e.Respond = &respond.Responder{IAM: respondaws.New(cfg), DB: e.DB, Events: src, Out: d.Stderr, Now: d.Now}
			e.Wait, e.Poll = wait, poll
			dr, err := e.Run(ctx, drill.Options{Account: account, Scenario: sc, Source: source, Alerts: alerts, Topic: topic, Contain: containBy, Rules: slices.Sorted(maps.Keys(rules))})
			if errors.Is(err, drill.ErrRefused) {
				return err
			}
			if dr != nil {
				if rerr := renderDrill(ctx, d, e, dr, format.value); rerr != nil && err == nil {
					err = rerr
				}
			}
			if err != nil {
				return err
			}
			return drillExit(dr)
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "the account id the drill runs in; must match the credentials' account")
	cmd.Flags().BoolVar(&yes, "yes", false, "run it: the drill creates and removes an IAM user and key")
	cmd.Flags().StringVar(&scenario, "scenario", drill.Seed001.Name, "a built-in scenario (seed-001, stolen-laptop, ci-leak, exposed-git) or a scenario YAML file")
	cmd.Flags().StringVar(&source, "source", "lookup:", "the watch source the detect step reads: lookup:[REGION,...], s3://bucket/prefix, a directory or file")
	cmd.Flags().StringVar(&alerts, "alerts", "", "the detect step reads the alerts of the team's own watch instead of running watch: FILE (its --sink jsonl:FILE), or sns:TOPIC_ARN (its --sink sns:TOPIC_ARN, the Lambda's topic), through a queue of the drill's own")
	cmd.Flags().StringArrayVar(&responds, "respond", nil, "RULE=contain: the detect step's watch contains the drill key on an alert of RULE, as watch --respond does (repeatable)")
	cmd.Flags().StringVar(&containBy, "contain", drill.ContainByDrill, "who contains the key: drill (respond --apply) or team (the team's own watch: wait up to --wait for the key to be Inactive)")
	cmd.Flags().DurationVar(&wait, "wait", 20*time.Minute, "how long the detect step waits for the expected alerts (and --contain team for the key to be Inactive)")
	cmd.Flags().DurationVar(&poll, "poll", time.Minute, "how often the detect step reads the source")
	format = addFormat(cmd, cmd.Flags(), "report format", "md", "json", "html")
	opts.flags(cmd, true)
	return cmd
}

// drillContainment is who contains the drill key, from --contain (given
// or not), --respond (hook: watch's hook) and --alerts.
func drillContainment(contain string, given, hook, alerts bool) (string, error) {
	switch {
	case contain != drill.ContainByDrill && contain != drill.ContainByTeam:
		return "", fmt.Errorf("--contain %q: want drill or team", contain)
	case hook && given:
		return "", errors.New("give --respond (the drill's watch contains the key) or --contain (drill or team), not both")
	case hook && alerts:
		return "", errors.New("--respond needs the drill's own watch, and --alerts reads the team's instead: give one")
	case hook:
		return drill.ContainByWatch, nil
	}
	return contain, nil
}

// cutLookup is the regions of a lookup: source, and whether it is one.
func cutLookup(source string) ([]string, bool) {
	rest, ok := strings.CutPrefix(source, "lookup:")
	if !ok || rest == "" {
		return nil, ok
	}
	return strings.Split(rest, ","), true
}

// drillExit is 1 for a failed step, 3 for a skipped one, else 0.
func drillExit(dr *drill.Drill) error {
	switch dr.Verdict() {
	case "fail":
		return errFindings
	case "incomplete":
		return &incompleteError{what: "drill " + dr.ID + " is incomplete: a step could not be run"}
	}
	return nil
}

// renderDrill writes dr's report, compared with the drill before it.
func renderDrill(ctx context.Context, d Deps, e *drill.Engine, dr *drill.Drill, format string) error {
	all, err := e.History(ctx)
	if err != nil {
		return err
	}
	var prev *drill.Drill
	for i, h := range all {
		if h.ID == dr.ID && i+1 < len(all) {
			prev = all[i+1]
		}
	}
	return drill.Render(d.Stdout, format, drill.NewReport(dr, prev))
}

func newDrillCleanupCmd(d Deps) *cobra.Command {
	var opts drillOptions
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "cleanup ID",
		Short: "Finish a drill a crash or an error left: remove its user, keys, policies, repository and queue",
		Long: `Finish the drill ID from its journal: delete the drill user's access keys, inline policies
(the drill's and respond's) and the user, remove the scratch repository and, for --alerts
sns:TOPIC_ARN, the queue's subscriptions to the topic and the queue; check no user tagged
keywarden-drill=ID, no such subscription and no such queue is listed and the repository is gone,
and close the drill. Running it on a
finished drill checks again and changes nothing. 'keywarden drill history' lists the ids.

Exit status: 0 cleaned up, 2 usage error, no such drill, or a failure (run it again).`,
		Example: "  keywarden drill cleanup 20261203t155500-1a2b3c4d",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, _, done, err := drillEngine(cmd.Context(), d, opts)
			if err != nil {
				return err
			}
			defer done()
			dr, err := e.Cleanup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return renderDrill(cmd.Context(), d, e, dr, format.value)
		},
	}
	format = addFormat(cmd, cmd.Flags(), "report format", "md", "json", "html")
	opts.flags(cmd, true)
	return cmd
}

func newDrillHistoryCmd(d Deps) *cobra.Command {
	var opts drillOptions
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List past drills with their times, each compared with the one before",
		Long: `List the drills of keywarden's state database, newest first: id, scenario, verdict, the
journal's last step (done, or where an unfinished one stopped), time to detect, notify, contain
and recover, and how detect, contain and notify moved against the drill before. No AWS call is made.
--format json prints each drill's report.

Exit status: 0 listed (none included), 2 usage error or an unreadable state database.`,
		Example: "  keywarden drill history\n  keywarden drill history --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := d.OpenState(opts.statePath)
			if err != nil {
				return err
			}
			defer db.Close()
			e := &drill.Engine{DB: db, Now: d.Now}
			all, err := e.History(cmd.Context())
			if err != nil {
				return err
			}
			if format.value == "json" {
				reps := make([]drill.Report, 0, len(all))
				for i, dr := range all {
					var prev *drill.Drill
					if i+1 < len(all) {
						prev = all[i+1]
					}
					reps = append(reps, drill.NewReport(dr, prev))
				}
				enc := json.NewEncoder(d.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(reps)
			}
			return drill.WriteHistory(d.Stdout, all)
		},
	}
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	opts.flags(cmd, false)
	return cmd
}

// drillEngine opens the journal and the AWS adapter.
func drillEngine(ctx context.Context, d Deps, o drillOptions) (*drill.Engine, aws.Config, func(), error) {
	db, err := d.OpenState(o.statePath)
	if err != nil {
		return nil, aws.Config{}, nil, err
	}
	cfg, err := d.LoadAWS(ctx, awsx.Options{Profile: o.profile})
	if err != nil {
		db.Close()
		return nil, aws.Config{}, nil, err
	}
	cfg, calls := awsx.Count(cfg)
	e := &drill.Engine{AWS: drillaws.New(cfg), DB: db, Now: d.Now, Scan: drill.ScanHistory, ScanSite: drill.ScanSite, Sleep: clock.Sleep, Calls: calls}
	return e, cfg, func() { db.Close() }, nil
}
