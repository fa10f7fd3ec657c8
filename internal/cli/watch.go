package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/watch"
)

// watchOptions is everything `keywarden watch` was told.
type watchOptions struct {
	follow    bool
	resume    bool // --resume, and --follow: read from the saved cursor, keep dedup and baselines
	interval  time.Duration
	since     time.Duration
	failOn    severity.Level
	sinks     []string
	rules     []string
	sigma     []string
	responds  []string
	dedup     time.Duration
	rateLimit int      // alerts per minute per sink; 0: no limit
	sesVolume int64    // --ses-volume: poll SES sending statistics, alert over this floor; 0: off
	regions   []string // --regions for the SES poller
	statePath string
	profile   string
	region    string
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
--sigma FILE|DIR (Sigma rules for aws/cloudtrail). Alerts go to --sink (repeatable): text
(default), jsonl[:PATH], webhook:URL, slack:URL, sns:TOPIC_ARN; each alert is sent once per
--dedup window. --respond RULE=contain deactivates the key of an alert of RULE and revokes its
sessions, as 'keywarden respond --apply' does.

Exit status: 0 no alert at or above --fail-on, 1 alerts, 2 error.`

func newWatchCmd(deps Deps) *cobra.Command {
	opts := watchOptions{}
	var failOn, since string
	var listRules bool
	cmd := &cobra.Command{
		Use:   "watch SOURCE",
		Short: "Raise alerts on a stolen key's red flags in CloudTrail (files, directories, S3, stdin)",
		Long:  watchLong,
		Example: `  keywarden watch trail.json.gz
  keywarden watch s3://trail-bucket/AWSLogs/123456789012/CloudTrail/us-east-1/ --since 24h
  keywarden watch s3://trail-bucket/AWSLogs/ --follow --sink slack:https://hooks.slack.com/services/... --sink jsonl:alerts.jsonl
  keywarden watch logs/ --rules team-rules.yaml --sigma sigma/rules/cloud/aws/ --fail-on high
  keywarden watch - < events.jsonl`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if listRules {
				return listWatchRules(deps)
			}
			if len(args) != 1 {
				return usageErr(errors.New("give a SOURCE: a file, a directory, s3://bucket/prefix or -"))
			}
			lvl, err := severity.Parse(failOn)
			if err != nil {
				return usageErr(fmt.Errorf("--fail-on: %w", err))
			}
			opts.failOn = lvl
			if since != "" {
				if opts.since, err = parseSpan("--since", since); err != nil {
					return usageErr(err)
				}
			}
			return runWatch(cmd.Context(), deps, opts, args[0])
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.follow, "follow", false, "keep polling the source for new events")
	f.BoolVar(&opts.resume, "resume", false, "read once from where the last --resume/--follow run stopped (for cron)")
	f.DurationVar(&opts.interval, "interval", time.Minute, "with --follow: time between polls")
	f.StringVar(&since, "since", "", "read events this recent only (h, d or w; default: all there is)")
	f.StringVar(&failOn, "fail-on", "high", "exit 1 when an alert is at or above this severity")
	f.StringArrayVar(&opts.sinks, "sink", nil, "where alerts go (repeatable): text, jsonl[:PATH], webhook:URL, slack:URL, sns:TOPIC_ARN (default text)")
	f.StringArrayVar(&opts.rules, "rules", nil, "keywarden YAML rules: FILE or DIR (repeatable)")
	f.StringArrayVar(&opts.sigma, "sigma", nil, "Sigma rules for aws/cloudtrail: FILE or DIR (repeatable)")
	f.StringArrayVar(&opts.responds, "respond", nil, "RULE=contain: contain the key of an alert of RULE (repeatable)")
	f.Int64Var(&opts.sesVolume, "ses-volume", 0, "also poll SES's sending statistics and alert when an hour's sends reach this many and 5 times the usual hour (0: off)")
	f.StringSliceVar(&opts.regions, "regions", nil, "with --ses-volume: these regions (default: every enabled region)")
	f.IntVar(&opts.rateLimit, "rate-limit", 60, "at most this many alerts per minute per sink; the rest are summed up in one alert (0: no limit)")
	f.DurationVar(&opts.dedup, "dedup", time.Hour, "send an alert about the same rule, key, principal and finding once per this window")
	f.StringVar(&opts.statePath, "state", "", "keywarden's state database: cursors, baselines, dedup (default $KEYWARDEN_STATE, else $XDG_STATE_HOME/keywarden/state.db)")
	f.StringVar(&opts.profile, "profile", "", "AWS profile for S3, SNS and --respond")
	f.StringVar(&opts.region, "region", "", "AWS region (default: the SDK's)")
	f.BoolVar(&listRules, "list-rules", false, "print the built-in rules and exit")
	return cmd
}

func runWatch(ctx context.Context, deps Deps, opts watchOptions, source string) error {
	db, err := openState(opts.statePath)
	if err != nil {
		return err
	}
	defer db.Close()
	store := detect.Store(&detect.MemStore{})
	if opts.follow || opts.resume {
		store = watch.StateStore(db)
	}
	cfg, err := awsx.Load(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return err
	}
	p, err := buildPipeline(ctx, deps, opts, cfg, store, db)
	if err != nil {
		return err
	}
	defer closeSinks(p)
	for {
		if opts.follow || opts.resume {
			if _, err := watch.PruneDedup(ctx, db, time.Now().Add(-opts.dedup-watch.DedupKeep)); err != nil {
				return err
			}
		}
		if err := watchOnce(ctx, deps, opts, cfg, store, p, source); err != nil {
			return err
		}
		if err := pollSES(ctx, deps, opts, cfg, p); err != nil {
			return err
		}
		if !opts.follow {
			break
		}
		flushSinks(ctx, p) // a rate-limit summary waits no longer than one poll
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.interval):
		}
	}
	if worst, n := p.Worst(); n > 0 && worst >= opts.failOn {
		return errFindings
	}
	return nil
}

// watchBatch is how many events are judged together.
const watchBatch = 5000

// watchOnce reads the source from its cursor, judges what is new, and
// saves the cursor after the alerts were delivered.
func watchOnce(ctx context.Context, deps Deps, opts watchOptions, cfg aws.Config, store detect.Store, p *watch.Pipeline, source string) error {
	cur, err := watch.LoadCursor(ctx, store, source)
	if err != nil {
		return err
	}
	ro := cloudtrail.Options{Since: cur.Since(), Warn: newWarner(deps.Stderr).add}
	if opts.since > 0 && (ro.Since.IsZero() || time.Since(ro.Since) > opts.since) {
		ro.Since = time.Now().Add(-opts.since)
	}
	if source == "-" {
		ro.Stdin = deps.Stdin
	}
	// Judged in batches as they are read, so memory stays flat however
	// large the source; a batch is sorted by time before it is judged.
	var events []cloudtrail.Event
	remember := opts.follow || opts.resume
	flush := func() error {
		batch := events
		if remember { // a plain run judges everything it reads
			batch = cur.Fresh(events)
		}
		err := p.Process(ctx, batch)
		events = events[:0]
		return err
	}
	newStore := cloudtrailaws.S3Opener(cfg)
	collect := func(e cloudtrail.Event) error {
		events = append(events, e)
		if len(events) >= watchBatch {
			return flush()
		}
		return nil
	}
	if regions, ok := strings.CutPrefix(source, "lookup:"); ok {
		err = lookupSource(ctx, deps, cfg, regions, ro.Since, collect)
	} else {
		err = cloudtrail.ReadFrom(ctx, source, ro, newStore, collect)
	}
	if err != nil {
		return fmt.Errorf("watch %s: %w", source, err)
	}
	if err := flush(); err != nil {
		return err
	}
	if err := p.Commit(ctx); err != nil {
		return err
	}
	if source == "-" || !(opts.follow || opts.resume) {
		return nil
	}
	return cur.Save(ctx, store, source)
}

func openState(path string) (*state.DB, error) {
	if path == "" {
		var err error
		if path, err = state.DefaultPath(); err != nil {
			return nil, err
		}
	}
	return state.Open(path)
}

func flushSinks(ctx context.Context, p *watch.Pipeline) {
	for _, s := range p.Sinks {
		if f, ok := s.(interface{ Flush(context.Context) error }); ok {
			_ = f.Flush(ctx)
		}
	}
}

func closeSinks(p *watch.Pipeline) {
	for _, s := range p.Sinks {
		_ = s.Close()
	}
}

// containOnAlert returns the --respond hook: for alerts of the named
// rules, deactivate the alert's key and revoke its sessions.
func containOnAlert(deps Deps, opts watchOptions, cfg aws.Config, db *state.DB) (func(context.Context, detect.Alert) error, error) {
	rules := map[string]bool{}
	for _, r := range opts.responds {
		rule, action, ok := strings.Cut(r, "=")
		if !ok || action != "contain" || rule == "" {
			return nil, usageErr(fmt.Errorf("--respond %q: want RULE=contain", r))
		}
		rules[rule] = true
	}
	if len(rules) == 0 {
		return nil, nil
	}
	r := &respond.Responder{IAM: awsx.NewKeyAdmin(cfg), DB: db, Out: deps.Stderr, Now: time.Now}
	contained := map[string]bool{}
	return func(ctx context.Context, a detect.Alert) error {
		if !rules[a.Rule] || !strings.HasPrefix(a.AccessKeyID, "AKIA") || contained[a.AccessKeyID] {
			return nil
		}
		contained[a.AccessKeyID] = true
		rep, err := r.Run(ctx, respond.Request{KeyID: a.AccessKeyID, Apply: true})
		if err != nil {
			return fmt.Errorf("--respond %s=contain %s: %w", a.Rule, a.AccessKeyID, err)
		}
		fmt.Fprintf(deps.Stderr, "contained %s after %s: incident %s (undo: keywarden respond undo %s)\n", a.AccessKeyID, a.Rule, rep.Incident, rep.Incident)
		return nil
	}, nil
}

// pollSES judges SES's own sending statistics in each region (--ses-volume).
func pollSES(ctx context.Context, deps Deps, opts watchOptions, cfg aws.Config, p *watch.Pipeline) error {
	if opts.sesVolume <= 0 {
		return nil
	}
	regions := opts.regions
	if len(regions) == 0 {
		var err error
		if regions, err = awsx.EnabledRegions(ctx, cfg); err != nil {
			return fmt.Errorf("--ses-volume: %w", err)
		}
	}
	account, _ := awsx.NewKeyAdmin(cfg).Caller(ctx)
	now := time.Now()
	var alerts []detect.Alert
	for _, region := range regions {
		points, err := awsx.SESSendPoints(ctx, cfg, region)
		if err != nil {
			fmt.Fprintf(deps.Stderr, "warning: %v\n", err)
			continue
		}
		if last, median, spike := watch.SESSpike(points, now, opts.sesVolume); spike {
			alerts = append(alerts, watch.SESSpikeAlert(account.Account, region, now, last, median))
		}
	}
	return p.Raise(ctx, alerts)
}

// lookupSource reads every management event of the regions (comma list;
// empty: every enabled region) since the cursor, from CloudTrail's
// LookupEvents: no trail needed, 90 days of history, paced under its quota.
func lookupSource(ctx context.Context, deps Deps, cfg aws.Config, regionList string, since time.Time, sink func(cloudtrail.Event) error) error {
	var regions []string
	if regionList != "" {
		regions = strings.Split(regionList, ",")
	} else {
		var err error
		if regions, err = awsx.EnabledRegions(ctx, cfg); err != nil {
			return err
		}
	}
	if since.IsZero() {
		since = time.Now().Add(-time.Hour) // a first poll starts an hour back, not 90 days
	}
	warn := newWarner(deps.Stderr)
	defer warn.flush()
	_, err := cloudtrailaws.LookupKeyEvents(ctx, cfg, "", regions, since, sink, cloudtrailaws.LookupWarn(func(m string) { warn.add(errors.New(m)) }))
	return err
}
