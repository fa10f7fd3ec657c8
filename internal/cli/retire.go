package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/retire/retireaws"
	"github.com/keywarden/keywarden/internal/ui"
)

// newRetireCmd is `keywarden retire`: replace long-term keys with roles.
func newRetireCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retire",
		Short: "Replace long-term access keys with roles: plan from CloudTrail, apply, finish, undo",
		Long: `Replace long-term access keys with what should have been used instead. 'retire plan'
classifies how each key is used from its CloudTrail events (a workload on AWS, GitHub
Actions, GitLab CI, a person, a third party, or no one) and proposes its replacement: an
instance profile, task, function or service role, an OIDC role pinned to a repository, a role
a person assumes with MFA, a role with an external id, or deleting the key. 'retire apply'
builds what a plan proposes, 'retire finish' retires each key once it stays unused (and its
role is used), 'retire undo' removes what apply built, 'retire list' shows the retirements,
'retire schedule' runs finish daily.

Exit status: that of the subcommand (0 for this help), 2 for an unknown one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newRetirePlanCmd(d), newRetireApplyCmd(d), newRetireFinishCmd(d), newRetireUndoCmd(d), newRetireListCmd(d), newRetireScheduleCmd(d))
	return cmd
}

// retirePlanOptions is everything `keywarden retire plan` was told.
type retirePlanOptions struct {
	key, user       string
	all             bool
	since           *spanFlag
	format          *formatFlag
	repo, ref       string
	output          string
	noCurrent       bool
	profile, region string
	statePath       string
}

const retirePlanLong = `Plan how to retire access keys: for each key (--key, every key of --user, or --all keys of
the account), read its CloudTrail events and those of the sessions minted from it from each
SOURCE since --since, say how it is used, and propose what replaces it.

SOURCE is any watch source: a CloudTrail log file or directory, s3://bucket/prefix, - for
standard input, or lookup:[REGION,...] for LookupEvents (management events only).

Classes, from the events' source addresses (AWS's, GitHub Actions' and Google Cloud's
published ranges, embedded: docs/retire.md says from when and how to update them) and user
agents (exec-env/AWS_Lambda_*, exec-env/AWS_ECS_*, CodeBuild, configure-aws-credentials,
macOS, Windows, browsers, vendors' services):
  aws          a workload on AWS  -> instance profile, task role, function role or service role
  github       GitHub Actions     -> an OIDC role whose trust pins --repo and --ref
  gitlab       GitLab CI          -> an OIDC role whose trust pins --repo (the project) and --ref
  person       a person's machine -> IAM Identity Center, or a role assumed with MFA through
                                     keywarden's vault (creds import, exec)
  third-party  another organisation's service -> a role with a random sts:ExternalId
  unused       no event in the window and IAM's last use not in it -> delete the key
  mixed        several classes with real weight (10% of the events or more): no single
               replacement; split the key's uses first
  unknown      used, but no event says where from (only AWS services' calls on its behalf,
               masked addresses; or IAM saw a use the sources do not hold): no replacement
Calls AWS services make on the key's behalf (invokedBy, a service name as the address) do
not decide. The role's permissions are policy suggest's over the same events, never a copy
of the user's policies. What CloudTrail cannot say (the repository, a vendor's account) is
left as <FILL-IN>, which 'retire apply' refuses.

--all, --user and the unused class read the account's keys and their last use from IAM;
each key's class is saved in the state database, where audit finds it (KW-KEY-RETIRABLE).
--format json writes the plan 'retire apply' reads.

Exit status: 0 done, 2 error (no SOURCE could be read at all, too), 3 incomplete: a source
could not be read, so a key may be used where it would have shown.`

func newRetirePlanCmd(d Deps) *cobra.Command {
	opts := retirePlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan (--key AKIA…|--user NAME|--all) SOURCE...",
		Short: "Classify how each key is used and propose the role that replaces it",
		Long:  retirePlanLong,
		Example: `  keywarden retire plan --all s3://trail-bucket/AWSLogs/ --since 90d
  keywarden retire plan --key AKIAIOSFODNN7EXAMPLE ./trail-logs/ --repo acme/deploy --ref refs/heads/main
  keywarden retire plan --user ci lookup:us-east-1 --format json -o retire-plan.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRetirePlan(opts, args); err != nil {
				return usageErr(err)
			}
			return runRetirePlan(cmd.Context(), d, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.key, "key", "", "the access key id to plan for")
	f.StringVar(&opts.user, "user", "", "plan for every access key of this IAM user")
	f.BoolVar(&opts.all, "all", false, "plan for every access key of the account")
	opts.since = addSpan(f, "since", "90d", false, "read events this far back")
	opts.format = addFormat(cmd, f, "", "text", "json", "md")
	f.StringVar(&opts.repo, "repo", "", "the repository a CI key's workflow runs in: owner/name (GitHub) or group/project (GitLab)")
	f.StringVar(&opts.ref, "ref", "", "what the OIDC trust pins: refs/heads/BRANCH or environment:NAME (default refs/heads/main)")
	f.BoolVar(&opts.noCurrent, "no-current", false, "do not read the users' current policies (no report of rights never used)")
	f.StringVarP(&opts.output, "output", "o", "", "write the plan to FILE")
	addProfile(f, &opts.profile, "AWS profile for IAM, s3:// and lookup: sources")
	addRegion(f, &opts.region, "AWS region for IAM and S3 (default: the SDK's)")
	addState(f, &opts.statePath, ", where each key's class is saved for audit")
	return cmd
}

var (
	repoPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$`)
	refPattern  = regexp.MustCompile(`^(refs/heads/[^*\s]+|environment:[^*\s]+)$`)
)

// checkRetirePlan refuses, before anything is read, what cannot work.
func checkRetirePlan(opts retirePlanOptions, sources []string) error {
	n := 0
	for _, set := range []bool{opts.key != "", opts.user != "", opts.all} {
		if set {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("give exactly one of --key, --user or --all")
	case opts.key != "" && (len(opts.key) != 20 || !strings.HasPrefix(opts.key, "AKIA")):
		return fmt.Errorf("--key %q: want a long-term access key id (AKIA…, 20 characters)", opts.key)
	case opts.repo != "" && !repoPattern.MatchString(opts.repo):
		return fmt.Errorf("--repo %q: want owner/name (or group/subgroup/project), no wildcard", opts.repo)
	case opts.ref != "" && !refPattern.MatchString(opts.ref):
		return fmt.Errorf("--ref %q: want refs/heads/BRANCH or environment:NAME, no wildcard", opts.ref)
	}
	return checkSources(sources)
}

func runRetirePlan(ctx context.Context, d Deps, opts retirePlanOptions, sources []string) error {
	cfg, err := d.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return err
	}
	now := d.Now()
	req := retire.Request{Since: now.Add(-opts.since.d), Until: now, Target: retire.Target{Repo: opts.repo, Ref: opts.ref}}
	var events, keys atomic.Int64
	progress := ui.StartProgress(d.Stderr, func() string {
		return fmt.Sprintf("%s read for %s", english.Count(int(events.Load()), "event"), english.Count(int(keys.Load()), "key"))
	}, 250*time.Millisecond)
	defer progress.Stop()
	warn := newWarner(progress)
	defer warn.flush()
	iam := retireaws.NewKeyLister(cfg)
	if req.Keys, req.Target.Account, err = retireKeys(ctx, iam, opts, warn.add); err != nil {
		return err
	}
	if len(req.Keys) == 0 {
		return fmt.Errorf("no access key to plan for: %s", map[bool]string{true: "the account has none", false: "user " + opts.user + " has none"}[opts.all])
	}
	keys.Store(int64(len(req.Keys)))
	env := retire.Env{Sources: counting(namedSources(d, cfg, sources), &events), Warn: warn.add}
	if !opts.noCurrent {
		env.Rights = policyaws.New(cfg)
	}
	plan, err := retire.MakePlan(ctx, req, env)
	progress.Stop()
	if err != nil {
		return err
	}
	if err := writeOutput(d, opts.output, 0o644, func(w io.Writer, _ bool) error { return retire.Render(w, opts.format.value, plan) }); err != nil {
		return err
	}
	if err := saveRetireClasses(ctx, d, opts.statePath, plan); err != nil {
		// The plan is written; only audit's view of it is missing.
		warn.add(fmt.Errorf("the keys' classes were not saved for audit: %w", err))
	}
	n := len(plan.Incomplete)
	names := "them"
	if n == 1 {
		names = "it"
	}
	return incomplete(n, english.Count(n, "source")+" could not be read (the plan names "+names+")", false)
}

// retireKeys are the keys to plan for, with IAM's last use, and the
// account. With --key, a key IAM cannot be asked about is planned from
// its events alone.
func retireKeys(ctx context.Context, iam retire.Keys, opts retirePlanOptions, warn func(error)) ([]retire.KeyInfo, string, error) {
	account, accErr := iam.Account(ctx)
	switch {
	case opts.key != "":
		k, err := iam.Key(ctx, opts.key)
		if errors.Is(err, retire.ErrNoSuchKey) {
			return nil, "", err
		}
		if err != nil {
			warn(fmt.Errorf("%w: the key is planned from its events alone (its user and last use unknown to IAM)", err))
			return []retire.KeyInfo{{ID: opts.key}}, account, nil
		}
		return []retire.KeyInfo{k}, account, nil
	case accErr != nil:
		return nil, "", accErr
	case opts.user != "":
		keys, err := iam.UserKeys(ctx, opts.user)
		return keys, account, err
	}
	keys, err := iam.AllKeys(ctx)
	return keys, account, err
}

// saveRetireClasses records each key's class for audit.
func saveRetireClasses(ctx context.Context, d Deps, path string, p retire.Plan) error {
	db, err := d.OpenState(path)
	if err != nil {
		return err
	}
	defer db.Close()
	return retire.SaveClasses(ctx, db, p)
}

// counting counts the events each source hands on, for the progress line.
func counting(srcs []policy.Named, n *atomic.Int64) []policy.Named {
	out := make([]policy.Named, len(srcs))
	for i, s := range srcs {
		out[i] = policy.Named{Name: s.Name, Source: countingSource{s.Source, n}}
	}
	return out
}

type countingSource struct {
	policy.Source
	n *atomic.Int64
}

func (c countingSource) Read(ctx context.Context, opts cloudtrail.Options, sink cloudtrail.Sink) error {
	return c.Source.Read(ctx, opts, func(e cloudtrail.Event) error { c.n.Add(1); return sink(e) })
}
