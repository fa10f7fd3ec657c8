package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/policy/policyaws"
	"github.com/keywarden/keywarden/internal/watch"
)

// newPolicyCmd is `keywarden policy`: least privilege from observed use.
func newPolicyCmd(deps Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Least privilege from observed use: suggest, diff, apply and undo the policy a principal needs",
		Long: `Least privilege from what a principal really did. 'policy suggest' reads its CloudTrail
events and writes the IAM policy that allows exactly those calls, with the report behind it;
'policy diff' compares it with what the principal holds; 'policy apply' swaps the principal's
own policies for it, journaled; 'policy undo' puts them back exactly; 'policy list' shows the
applies.

Exit status: that of the subcommand.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPolicySuggestCmd(deps), newPolicyDiffCmd(deps), newPolicyApplyCmd(deps), newPolicyUndoCmd(deps), newPolicyListCmd(deps))
	return cmd
}

// policySuggestOptions is everything `keywarden policy suggest` was told.
type policySuggestOptions struct {
	key, user, role string
	since           *spanFlag
	advisor         *spanFlag
	format          *formatFlag
	threshold       int
	noCurrent       bool
	output          string
	profile, region string
}

const policySuggestLong = `Suggest the least-privilege IAM policy for a principal from the calls it made: every
event of --key (and of the sessions minted from it with GetSessionToken or
GetFederationToken, followed as respond follows them; a role assumed with the key has the
role's rights, not the key's, and is left out), of --user or of --role, read from each
SOURCE since --since.

SOURCE is any watch source: a CloudTrail log file or directory, s3://bucket/prefix, - for
standard input, or lookup:[REGION,...] for LookupEvents (management events only).

Each call becomes the IAM actions it is authorized as, from AWS's service authorization data
(embedded; docs/policy.md says where it comes from): eventSource namespaces that are not the
IAM prefix (monitoring -> cloudwatch), dated event names (Lambda's CreateFunction20150331),
renamed calls (ListObjectsV2 -> s3:ListBucket, HeadObject -> s3:GetObject), second actions
(iam:PassRole for a role handed to a service), calls that need none (sts:GetCallerIdentity,
console sign-in, an AWS service acting as itself). Resources come from the event (its
resources list, its request parameters, its account and region), matched to the action's
ARN templates; more than --threshold siblings under one prefix are granted as prefix/*.

The report: per action the calls, first and last seen; the calls IAM denied (never granted);
the events the data does not know (granted as named, flagged); and what the principal's
current policies grant and it never used, per service and per dangerous class (read from
IAM; --no-current skips it). --access-advisor 400d also reads IAM Access Advisor and adds, at
service level on every resource, the services it saw used in that span that no event of the
window shows (a short trail misses them); statement_sources in the JSON, and the text, say
which statements came from it. --format json writes the suggestion 'policy apply' reads.

Exit status: 0 done, 2 error (no SOURCE could be read at all, too), 3 incomplete: a source (or
the current policies) could not be read, so a call made there is unknown and the policy may
deny it.`

func newPolicySuggestCmd(deps Deps) *cobra.Command {
	opts := policySuggestOptions{}
	cmd := &cobra.Command{
		Use:   "suggest (--key AKIA…|--user NAME|--role NAME) SOURCE...",
		Short: "Suggest the least-privilege policy from a principal's CloudTrail events",
		Long:  policySuggestLong,
		Example: `  keywarden policy suggest --key AKIAIOSFODNN7EXAMPLE s3://trail-bucket/AWSLogs/ --since 90d
  keywarden policy suggest --user deploy ./trail-logs/ --format json -o deploy-policy.json
  keywarden policy suggest --role ci-runner lookup:us-east-1,eu-west-1 --no-current`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkPolicySuggest(opts, args); err != nil {
				return usageErr(err)
			}
			return runPolicySuggest(cmd.Context(), deps, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.key, "key", "", "the access key id whose calls (and minted sessions' calls) to read")
	f.StringVar(&opts.user, "user", "", "the IAM user whose calls to read")
	f.StringVar(&opts.role, "role", "", "the IAM role whose sessions' calls to read")
	opts.since = addSpan(f, "since", "90d", false, "read events this far back")
	opts.advisor = addSpan(f, "access-advisor", "", true, "also read IAM Access Advisor and add, at service level, the services it saw used this far back that no event shows (off by default)")
	f.IntVar(&opts.threshold, "threshold", policy.DefaultThreshold, "grant prefix/* when more than this many siblings under a prefix were used")
	f.BoolVar(&opts.noCurrent, "no-current", false, "do not read the principal's current policies (no report of rights never used)")
	opts.format = addFormat(cmd, f, "", "text", "json")
	f.StringVarP(&opts.output, "output", "o", "", "write the suggestion to FILE")
	addProfile(f, &opts.profile, "AWS profile for s3:// and lookup: sources and for reading the current policies")
	addRegion(f, &opts.region, "AWS region for IAM and S3 (default: the SDK's)")
	return cmd
}

// checkPolicySuggest refuses, before anything is read, what cannot work.
func checkPolicySuggest(opts policySuggestOptions, sources []string) error {
	n := 0
	for _, s := range []string{opts.key, opts.user, opts.role} {
		if s != "" {
			n++
		}
	}
	switch {
	case n != 1:
		return errors.New("give exactly one of --key, --user or --role")
	case opts.key != "" && (len(opts.key) != 20 || !strings.HasPrefix(opts.key, "AKIA") && !strings.HasPrefix(opts.key, "ASIA")):
		return fmt.Errorf("--key %q: want an access key id (AKIA… or ASIA…, 20 characters)", opts.key)
	case opts.threshold < 1:
		return fmt.Errorf("--threshold %d: want a positive number", opts.threshold)
	}
	return checkSources(sources)
}

// checkSources refuses, before anything is read, SOURCEs that cannot be
// (policy suggest's and retire plan's: watch's sources).
func checkSources(sources []string) error {
	if len(sources) == 0 {
		return errors.New("give at least one SOURCE: a log file or directory, s3://bucket/prefix, - or lookup:")
	}
	for _, src := range sources {
		if err := checkLookupRegions(src); err != nil {
			return err
		}
		if strings.HasPrefix(src, "s3://") || strings.HasPrefix(src, "lookup:") || src == "-" {
			continue
		}
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("SOURCE %s: no such file or directory", src)
		}
	}
	return nil
}

// namedSources are SOURCEs as watch sources, named as the user gave them.
func namedSources(deps Deps, cfg aws.Config, sources []string) []policy.Named {
	var named []policy.Named
	for _, src := range sources {
		named = append(named, policy.Named{Name: src, Source: watch.NewSource(src, watch.SourceEnv{Stdin: deps.Stdin, Now: deps.Now,
			Objects: cloudtrailaws.S3Opener(cfg), Lookup: cloudtrailaws.NewLookup(cfg)})})
	}
	return named
}

func runPolicySuggest(ctx context.Context, deps Deps, opts policySuggestOptions, sources []string) error {
	cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return err
	}
	warn := newWarner(deps.Stderr)
	defer warn.flush()
	env := policy.Env{Warn: warn.add, Sources: namedSources(deps, cfg, sources)}
	if !opts.noCurrent {
		env.Rights = policyaws.New(cfg)
	}
	now := deps.Now()
	if opts.advisor.d > 0 {
		env.Advisor, env.AdvisorSince = policyaws.New(cfg), now.Add(-opts.advisor.d)
	}
	req := policy.Request{Key: opts.key, User: opts.user, Role: opts.role, Since: now.Add(-opts.since.d), Until: now, Threshold: opts.threshold}
	s, err := policy.Run(ctx, req, env)
	if err != nil {
		return err
	}
	if err := writeOutput(deps, opts.output, 0o644, func(w io.Writer, _ bool) error { return policy.Render(w, opts.format.value, s) }); err != nil {
		return err
	}
	n := len(s.Incomplete)
	names := "them"
	if n == 1 {
		names = "it"
	}
	return incomplete(n, english.Count(n, "source")+" could not be read (the report names "+names+")", false)
}
