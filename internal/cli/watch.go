package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

// watchOptions is everything `keywarden watch` was told, bound where it
// goes: the loop's, the pipeline's and the SES poller's options.
type watchOptions struct {
	run                        *watch.Watch    // --follow, --interval, --dedup; the run itself
	pipeline                   watch.Config    // --sink, --rate-limit; Format: how alerts print on stdout ("": only --sink says where)
	ses                        watch.SESPoller // --ses-volume, --regions
	since                      *spanFlag
	failOn                     *severityFlag
	format                     *formatFlag
	rules, sigma, responds     []string
	resume, quiet              bool
	statePath, profile, region string
	contain                    map[string]bool // the rules of --respond RULE=contain
}

const watchLong = `Read CloudTrail and raise alerts on the red flags of a stolen key: IAM persistence (users,
keys, console passwords, admin policies), sessions minted from long-term keys, recon (secret
scanners' GetCallerIdentity, account-wide listings, bursts of List/Describe), AccessDenied
bursts, defense evasion (CloudTrail stopped or deleted, GuardDuty, flow logs, Config), SES
recon and abuse, crypto-mining, root use, console logins without MFA, AWS's quarantine policy
attached, and per-key baselines (a new network, user agent, region or service after a
learning period); every Stratus Red Team AWS technique and the MITRE ATT&CK IaaS techniques a
stolen key enables (MFA and identity providers changed, security tools silenced, backups, KMS
keys and data destroyed, S3 ransomware where the trail logs S3 data events).
'keywarden watch --list-rules' prints the catalogue.

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

What could not be read — a file that is not CloudTrail or is cut short, a bad record, a
file or directory that cannot be opened, a region whose lookup fails — is a warning on
stderr, and the run is incomplete. A source none of which could be read (its only file
corrupt, every region failing, nothing in it) is an error. One summary line ends the run on
stderr (events read, alerts, what could not be read); -q leaves it out.

Limits against hostile input (docs/watch.md, "Limits"): one record or JSON Lines line holds
at most 8 MiB and nests at most 10,000 deep (past either the file ends there, with a
warning); UTF-16, UTF-32 or binary is not read; invalid UTF-8 is replaced by U+FFFD; a
--rules or --sigma file holds at most 4 MiB.

Exit status: 0 no alert at or above --fail-on, 1 alerts, 2 error (nothing could be read),
3 incomplete (no alert at or above --fail-on, but part of the source could not be read).`

func newWatchCmd(deps Deps) *cobra.Command {
	opts := watchOptions{run: &watch.Watch{}}
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
			if err := checkLookupRegions(args[0]); err != nil {
				return usageErr(err)
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
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress or summary on stderr")
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
	if c.Canaries, err = canary.Load(ctx, db); err != nil {
		return err
	}
	c.CanarySeen = watch.StateStore(db) // even for a plain run: canary check matches against it
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
	stderr, stopProgress := io.Writer(deps.Stderr), func() {}
	// Alerts printed on the same terminal would land on the progress line,
	// and a follower's would sit under them for ever.
	if !opts.quiet && !w.Follow && !ui.IsTerminal(deps.Stdout) {
		progress := ui.StartProgress(deps.Stderr, func() string { return watchProgress(w, source) }, 250*time.Millisecond)
		stderr, stopProgress = progress, progress.Stop
	}
	first := pollWarnings(w, stderr)
	if w.Follow && c.Canaries.Len() > 0 {
		w.Canaries = canaryPoller(deps, cfg, db)
	}
	if ses := opts.ses; ses.Floor > 0 {
		ses.Stats, ses.Warn = watchaws.NewSES(cfg), func(err error) { fmt.Fprintf(stderr, "warning: %v\n", err) }
		w.SES = &ses
	}
	err = w.Run(ctx)
	stopProgress()
	return watchOutcome(w, opts, p, first, stderr, err)
}

// pollWarnings gives each poll of w its own warner, and returns the first
// poll's: it holds its lines while nothing is read, for the one error line
// of a source none of which could be read may say it instead.
func pollWarnings(w *watch.Watch, stderr io.Writer) *warner {
	first := newWarner(stderr)
	first.holdWhile(func() bool { return !w.Read() })
	polls := 0
	w.Warnings = func() (func(error), func()) {
		if polls++; polls == 1 {
			return first.add, func() {
				if w.Read() {
					first.flush()
				}
			}
		}
		wr := newWarner(stderr)
		return wr.add, wr.flush
	}
	return first
}

// watchOutcome maps a run to the exit status: alerts at or above --fail-on
// (1), gaps (3), nothing read at all (2, one line), else 0; and ends it
// with the summary line.
func watchOutcome(w *watch.Watch, opts watchOptions, p *watch.Pipeline, first *warner, stderr io.Writer, err error) error {
	var nothing *watch.NothingRead
	if errors.As(err, &nothing) {
		if len(nothing.Gaps) == 1 {
			first.takeHeld() // the error says it
			return err
		}
		first.flush()
		return fmt.Errorf("watch %s: nothing could be read (%d reasons, above)", w.Name, len(nothing.Gaps))
	}
	first.flush()
	if err != nil {
		return err
	}
	out := w.Outcome()
	worst, alerts := p.Worst()
	fails := alerts > 0 && worst >= opts.failOn.level
	read := fmt.Sprintf("%s, %s", eventsRead(out, w.Name), english.Count(alerts, "alert"))
	if len(out.Gaps) > 0 && !fails { // the incomplete line is the summary
		return incomplete(len(out.Gaps), fmt.Sprintf("%d could not be read (see the warnings); %s", len(out.Gaps), read), false)
	}
	if !opts.quiet {
		line := "watch: " + read
		if len(out.Gaps) > 0 {
			line += fmt.Sprintf("; %d could not be read (see the warnings)", len(out.Gaps))
		}
		fmt.Fprintln(stderr, line)
	}
	return incomplete(len(out.Gaps), "", fails)
}

// watchProgress is the progress line of a run reading source.
func watchProgress(w *watch.Watch, source string) string {
	return fmt.Sprintf("watch %s: %s", source, eventsRead(w.Outcome(), source))
}

// eventsRead is "N events read from M files".
func eventsRead(out watch.Outcome, source string) string {
	s := english.Count(int(out.Events), "event") + " read"
	if out.Inputs > 0 {
		s += " from " + english.Count(int(out.Inputs), inputNoun(source))
	}
	return s
}

// checkLookupRegions refuses, before any AWS call, a lookup:REGION,...
// source naming something that is not a region.
func checkLookupRegions(source string) error {
	regions, ok := strings.CutPrefix(source, "lookup:")
	if !ok || regions == "" {
		return nil
	}
	for _, r := range strings.Split(regions, ",") {
		if err := checkRegion(r); err != nil {
			return fmt.Errorf("SOURCE lookup: %w", err)
		}
	}
	return nil
}

// inputNoun is what one input of a source is called.
func inputNoun(source string) string {
	switch {
	case strings.HasPrefix(source, "lookup:"):
		return "region"
	case strings.HasPrefix(source, "s3://"):
		return "object"
	case source == "-":
		return "stream"
	}
	return "file"
}

// respondHook is --respond RULE=contain: the key of an alert of RULE is
// contained by respond's playbook, as 'keywarden respond --apply' does.
func respondHook(deps Deps, cfg aws.Config, db *state.DB, p *watch.Pipeline, rules map[string]bool) error {
	if len(rules) == 0 {
		return nil
	}
	r := &respond.Responder{IAM: respondaws.New(cfg), DB: db, Out: deps.Stderr, Now: deps.Now}
	return p.ContainOn(rules, r.Contain, deps.Stderr)
}

// canaryPoller is canary check on every poll of --follow, over the
// canaries registered at each poll.
func canaryPoller(deps Deps, cfg aws.Config, db *state.DB) *watch.CanaryPoller {
	return &watch.CanaryPoller{
		Check: canary.Check{IAM: canaryaws.New(cfg), Seen: watch.StateStore(db), Grace: canary.DefaultGrace, Now: deps.Now},
		Load: func(ctx context.Context) ([]canary.Canary, error) {
			reg, err := canary.Load(ctx, db)
			return reg.All(), err
		},
		Save: func(ctx context.Context, cs []canary.Canary) error { return canary.SaveLastUsed(ctx, db, cs) },
	}
}
