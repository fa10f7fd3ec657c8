package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

// watchOptions is everything `keywarden watch` was told, bound where it
// goes: the loop's, the pipeline's and the SES poller's options.
type watchOptions struct {
	run                        watch.Watch     // --follow, --interval, --dedup
	pipeline                   watch.Config    // --sink, --rate-limit; Format: how alerts print on stdout ("": only --sink says where)
	ses                        watch.SESPoller // --ses-volume, --regions
	since                      *spanFlag
	failOn                     *severityFlag
	format                     *formatFlag
	rules, sigma, responds     []string
	resume                     bool
	statePath, profile, region string
	contain                    map[string]bool // the rules of --respond RULE=contain
}

const watchLong = `Read CloudTrail and raise alerts on the red flags of a stolen key: IAM persistence (users,
keys, console passwords, admin policies), sessions minted from long-term keys, recon (secret
scanners' GetCallerIdentity, account-wide listings, bursts of List/Describe), AccessDenied
bursts, defense evasion (CloudTrail stopped or deleted, GuardDuty, flow logs, Config), SES
recon and abuse, crypto-mining, root use, console logins without MFA, AWS's quarantine policy
attached, and per-key baselines (a new network, user agent, region or service after a
learning period). 'keywarden watch --list-rules' prints the catalogue.

SOURCE is a CloudTrail log file (gzip or plain, {"Records":[...]}, JSON Lines or EventBridge
envelopes), a directory of them, an S3 prefix (s3://bucket/AWSLogs/ACCOUNT/CloudTrail/REGION/),
- for standard input, or lookup:[REGION,...] to poll CloudTrail's LookupEvents (no trail
needed; management events only; every enabled region by default). It reads what is there,
prints the alerts, and exits 1 when one is at or above --fail-on. With --follow it keeps
polling every --interval; with --resume it reads once from where the last --resume or
--follow run stopped (for cron). Both keep a cursor, the
sent alerts (dedup, kept a week past the --dedup window) and the per-key baselines in the
state database (--state), so a restart neither skips nor repeats events; a plain run
remembers nothing.

Rules of your own: --rules FILE|DIR (keywarden's YAML: field matchers and thresholds) and
--sigma FILE|DIR (Sigma rules for aws/cloudtrail). Alerts are printed on stdout in --format:
text (default, one line each), jsonl (one JSON object a line, as they come) or json (one
array, written when the run ends; not with --follow, which does not end: use jsonl). --sink
(repeatable) sends them elsewhere instead: text, jsonl[:PATH], webhook:URL, slack:URL,
sns:TOPIC_ARN; give --format too to print them as well. Each alert is sent once per --dedup
window. --respond RULE=contain deactivates the key of an alert of RULE and revokes its
sessions, as 'keywarden respond --apply' does; RULE is a rule of --list-rules, --rules or
--sigma.

Exit status: 0 no alert at or above --fail-on, 1 alerts, 2 error.`

func newWatchCmd(deps Deps) *cobra.Command {
	opts := watchOptions{}
	var listRules bool
	cmd := &cobra.Command{
		Use:   "watch SOURCE",
		Short: "Raise alerts on a stolen key's red flags in CloudTrail (files, directories, S3, stdin)",
		Long:  watchLong,
		Example: `  keywarden watch trail.json.gz
  keywarden watch s3://trail-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/ --since 24h
  keywarden watch s3://trail-bucket/AWSLogs/ --follow --sink slack:https://hooks.slack.com/services/... --sink jsonl:alerts.jsonl
  keywarden watch logs/ --rules team-rules.yaml --sigma sigma/rules/cloud/aws/ --fail-on high
  keywarden watch --format jsonl - < events.jsonl | jq -r .rule`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if listRules {
				return watch.WriteCatalogue(deps.Stdout, opts.format.value)
			}
			if len(args) != 1 {
				return usageErr(errors.New("give a SOURCE: a file, a directory, s3://bucket/prefix or -"))
			}
			var err error
			if opts.pipeline.Format, err = watch.StdoutFormat(opts.format.value, cmd.Flags().Changed("format"), opts.pipeline.Sinks, opts.run.Follow); err != nil {
				return usageErr(err)
			}
			if opts.contain, err = watch.ContainRules(opts.responds); err != nil {
				return usageErr(err)
			}
			return runWatch(cmd.Context(), deps, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.run.Follow, "follow", false, "keep polling the source for new events")
	f.BoolVar(&opts.resume, "resume", false, "read once from where the last --resume/--follow run stopped (for cron)")
	f.DurationVar(&opts.run.Interval, "interval", time.Minute, "with --follow: time between polls")
	opts.since = addSpan(f, "since", "", false, "read only the events this recent, else all there is")
	opts.failOn = addFailOn(cmd, f, severity.High, "an alert")
	opts.format = addFormat(cmd, f, "how alerts (and --list-rules) are printed on stdout", watch.Formats...)
	f.StringArrayVar(&opts.pipeline.Sinks, "sink", nil, "where alerts go instead of stdout (repeatable): text, jsonl[:PATH], webhook:URL, slack:URL, sns:TOPIC_ARN")
	f.StringArrayVar(&opts.rules, "rules", nil, "keywarden YAML rules: FILE or DIR (repeatable)")
	f.StringArrayVar(&opts.sigma, "sigma", nil, "Sigma rules for aws/cloudtrail: FILE or DIR (repeatable)")
	f.StringArrayVar(&opts.responds, "respond", nil, "RULE=contain: contain the key of an alert of RULE (repeatable)")
	f.Int64Var(&opts.ses.Floor, "ses-volume", 0, "also poll SES's sending statistics and alert when an hour's sends reach this many and 5 times the usual hour (0: off)")
	addRegions(f, &opts.ses.Regions, "with --ses-volume: these regions")
	f.IntVar(&opts.pipeline.RateLimit, "rate-limit", 60, "at most this many alerts per minute per sink; the rest are summed up in one alert (0: no limit)")
	f.DurationVar(&opts.run.Dedup, "dedup", time.Hour, "send an alert about the same rule, key, principal and finding once per this window")
	addState(f, &opts.statePath, ": cursors, baselines, dedup")
	addProfile(f, &opts.profile, "AWS profile for S3, SNS and --respond")
	addRegion(f, &opts.region, "AWS region (default: the SDK's)")
	f.BoolVar(&listRules, "list-rules", false, "print the built-in rules and exit")
	return cmd
}

func runWatch(ctx context.Context, deps Deps, opts watchOptions, source string) error {
	db, err := deps.OpenState(opts.statePath)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return err
	}
	w, c := opts.run, opts.pipeline
	w.Resume = w.Follow || opts.resume // a plain run remembers nothing
	c.Store = detect.Store(&detect.MemStore{})
	if w.Resume {
		c.Store = watch.StateStore(db)
	}
	warn := newWarner(deps.Stderr)
	c.Rules, c.Warn, c.Dedup, c.Now = append(slices.Clone(opts.rules), opts.sigma...), warn.add, w.Dedup, deps.Now
	c.SinkEnv = watch.SinkEnv{Stdout: deps.Stdout, SNS: watchaws.SNSPublisher(cfg)}
	p, err := watch.NewPipeline(c)
	warn.flush()
	if err != nil {
		return usageErr(err)
	}
	defer p.Close()
	if err := respondHook(deps, cfg, db, p, opts.contain); err != nil {
		return usageErr(err)
	}
	w.Pipeline, w.Store, w.Name, w.Since, w.Now = p, c.Store, source, opts.since.d, deps.Now
	w.Source = watch.NewSource(source, watch.SourceEnv{Stdin: deps.Stdin, Now: deps.Now,
		Objects: cloudtrailaws.S3Opener(cfg), Lookup: cloudtrailaws.NewLookup(cfg)})
	w.Warnings = func() (func(error), func()) { w := newWarner(deps.Stderr); return w.add, w.flush }
	if ses := opts.ses; ses.Floor > 0 {
		ses.Stats, ses.Warn = watchaws.NewSES(cfg), func(err error) { fmt.Fprintf(deps.Stderr, "warning: %v\n", err) }
		w.SES = &ses
	}
	if err := w.Run(ctx); err != nil {
		return err
	}
	if worst, n := p.Worst(); n > 0 && worst >= opts.failOn.level {
		return errFindings
	}
	return nil
}

// respondHook is --respond RULE=contain: the key of an alert of RULE is
// contained by respond's playbook, as 'keywarden respond --apply' does.
func respondHook(deps Deps, cfg aws.Config, db *state.DB, p *watch.Pipeline, rules map[string]bool) error {
	if len(rules) == 0 {
		return nil
	}
	r := &respond.Responder{IAM: respondaws.New(cfg), DB: db, Out: deps.Stderr, Now: deps.Now}
	return p.ContainOn(rules, func(ctx context.Context, keyID string) (string, error) {
		rep, err := r.Run(ctx, respond.Request{KeyID: keyID, Apply: true})
		if err != nil {
			return "", err
		}
		return rep.Incident, nil
	}, deps.Stderr)
}
