package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/severity"
)

// auditOptions is everything `keywarden audit` (and `audit keys`) was told,
// resolved once from flags.
type auditOptions struct {
	profile, region      string
	statePath            string         // its canaries are left out of the judging
	scope                auditaws.Scope // what is read: --org, --role-name, --org-concurrency, --regions, --key-ids
	keyIDs               bool
	asOf                 string
	maxKeyAge, maxUnused *spanFlag
	newUserDays          int
	thirdPartyTags       []string
	requiredTags         []string
	judge                audit.Options // how it is judged, from the flags above; AsOf zero: now, once read
	format               *formatFlag
	output               string
	failOn               *severityFlag
	diff                 string // an earlier audit's json report
}

// auditFormats are the report formats plus a self-contained HTML page.
var auditFormats = append(slices.Clone(report.Formats), "html")

// keysFormats are the formats of the key inventory and of --diff: tables,
// not results, so no SARIF.
var keysFormats = []string{"text", "json", "jsonl", "csv"}

const auditLong = `Audit an AWS account's root user, IAM users and access keys against the access-key
best practices of the CIS AWS Foundations Benchmark (v3.0 and v5.0) and AWS Security Hub.

keywarden reads the IAM credential report, the users' policies (to tell administrators and
dangerous rights) and their access key ids, the security contact, CloudTrail trails with
their S3 buckets and the metric filters and alarms of their CloudWatch Logs groups, and in
every region enabled for the account (or --regions) the IAM Access Analyzer analyzers and
the EC2 instances, Lambda functions, ECS task definitions and SSM parameters where keys get
pasted, with the SDK's own configuration (--profile,
--region, AWS_PROFILE, AWS_ENDPOINT_URL). It only reads; the IAM actions it needs are in
docs/iam.md. The credential report is cached by AWS for up to 4 hours: keywarden says on
stderr how old it is.

Checks: KW-ROOT-KEY, KW-ROOT-MFA (critical); KW-KEY-ADMIN, KW-ADMIN-NO-MFA, KW-THIRD-PARTY-KEY
(a user tagged --third-party-tag holding an active key), KW-POLICY-ADMIN-STAR, KW-CT-BUCKET-PUBLIC
(high); KW-KEY-AGE (medium, high past twice --max-key-age); KW-KEY-UNUSED, KW-PASSWORD-UNUSED
(--max-unused), KW-CRED-UNUSED-90, KW-KEY-TWO-ACTIVE, KW-KEY-AT-SETUP, KW-USER-NO-MFA,
KW-KEY-DANGEROUS, KW-CLOUDSHELL-FULL, KW-CT-LOG-VALIDATION, KW-CT-KMS, KW-ROOT-HARDWARE-MFA,
KW-PASSWORD-LENGTH, KW-PASSWORD-REUSE, KW-PASSWORD-UPPERCASE, KW-PASSWORD-LOWERCASE,
KW-PASSWORD-SYMBOLS, KW-PASSWORD-NUMBERS (medium); KW-PASSWORD-MAX-AGE, KW-KEY-INACTIVE,
KW-USER-POLICY-DIRECT, KW-SERVER-CERT-EXPIRED, KW-NO-SUPPORT-ROLE, KW-NO-SECURITY-CONTACT,
KW-ACCESS-ANALYZER-OFF, KW-CT-NO-CLOUDWATCH, KW-CT-BUCKET-NO-LOGGING, KW-CT-S3-WRITE-EVENTS,
KW-CT-S3-READ-EVENTS, KW-POLICY-SERVICE-STAR, the tagging checks KW-USER-UNTAGGED, KW-ROLE-UNTAGGED,
KW-ANALYZER-UNTAGGED, KW-CT-UNTAGGED (--required-tag) and the CIS section 4 alarms KW-MON-* (low); KW-USER-NEW (info). A practice that cannot be judged because a fact is unknown is
reported at low severity with "verdict": "unknown", never passed silently. docs/audit.md describes each check and its controls.

With --org it lists the organization's ACTIVE accounts (organizations:ListAccounts) and
audits each, the caller's own with its credentials and the others through --role-name
(default OrganizationAccountAccessRole), --org-concurrency at a time. An account that cannot
be read is reported as a KW-ORG-ACCOUNT-UNREAD finding (high) and the others are still audited.
A member's role trusting only the organization's management account (AWS Organizations'
OrganizationAccountAccessRole) is reported at info, saying so. On a terminal, stderr shows
the accounts, users and regions read so far.

What could not be read (an account, a region, a denied read) is named, never passed: in text
before the summary, in json, jsonl and csv as KW-AUDIT-INCOMPLETE rows (finding-shaped, info,
evidence {"source", "reason"}; never counted by --fail-on), in sarif as the invocation's
toolExecutionNotifications with executionSuccessful false, in html as a banner.

IAM users registered as canaries (keywarden canary, in the state database of --state, read
only when it exists) are left out: their old, unused keys are meant to be. A note on stderr
names them, and json, jsonl and csv add one KW-AUDIT-CANARIES row (info, evidence
{"canaries": N, "users": [...]}; never counted by --fail-on).

With --diff FILE, FILE being an earlier 'keywarden audit --format json' (or jsonl) report, it
lists what changed since instead: users and keys created since the earlier audit judged
(its as_of), keys newly stale (KW-KEY-AGE, KW-KEY-UNUSED), other new findings, findings that
got worse, and findings fixed. An earlier finding in an account this run could not read is
listed as not-re-audited, never as fixed. --diff then exits 1 only for new, newly stale or
worse findings at or above --fail-on, so CI fails on what is new, not on known debt.

Ages are judged at --as-of: a date (2027-01-01), an RFC 3339 time, or an offset from now
(+30d, -2w, +12h) to preview what fails next month; by default, now. Every finding in json,
jsonl, csv and sarif carries its evidence, controls and a remediation. --format html writes
one self-contained page (no network needed to view it): a summary, the findings with their
remediation commands, a chart of key ages, and the key inventory, sortable and filterable.

'keywarden audit keys' lists every access key instead: owner, status, age, last use, the
owner's MFA and admin rights, and the checks that flag it.

Exit status: 0 no finding at or above --fail-on (default low: anything but info findings),
1 findings, 2 usage or runtime error (access denied gets a hint naming docs/iam.md),
3 incomplete: no finding at or above --fail-on, but an account, region or read could not be
read (findings outrank it: they exit 1, and the report still names what was not read).`

const auditExample = `  keywarden audit                              # the account of the default profile
  keywarden audit --profile prod --fail-on high  # in CI: fail on high and critical only
  keywarden audit --as-of +30d                 # what will fail in 30 days
  keywarden audit --max-key-age 60d --format json -o audit.json
  keywarden audit keys --format csv -o keys.csv  # every key, for a spreadsheet
  keywarden audit --format html -o audit.html  # one self-contained page: summary, findings, key ages, inventory
  keywarden audit --org --profile mgmt         # every account of the organization
  keywarden audit --format json -o last.json   # keep it, and next month:
  keywarden audit --diff last.json             # what changed since`

const auditKeysLong = `List every access key of the account, one row per key: account, user, key id, status,
age in days (judged at --as-of), last use (date, service, region), the user's MFA, whether
the user is an administrator, and the ids of the audit findings on that key.

Root user keys are listed as <root_account>; a key the credential report names only by its
slot (access_key_1, access_key_2) is shown so when its id could not be read.

What could not be read is named in text and on stderr (json, jsonl and csv list keys only).

Exit status: 0 listed, 2 usage or runtime error, 3 incomplete: an account, region or read
could not be read. (The inventory never exits 1: run 'keywarden audit' to fail on findings.)`

func newAuditCmd(deps Deps) *cobra.Command {
	opts := &auditOptions{}
	cmd := &cobra.Command{
		Use:     "audit",
		Short:   "Check an AWS account's users and access keys against CIS / Security Hub practices",
		Long:    auditLong,
		Example: auditExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolve(deps.Now(), opts.diff != ""); err != nil {
				return usageErr(err)
			}
			return runAudit(cmd.Context(), *opts, deps)
		},
	}
	pf := cmd.PersistentFlags()
	addProfile(pf, &opts.profile, "")
	addRegion(pf, &opts.region, "AWS region for the IAM, STS and CloudTrail calls (default: the SDK's)")
	addState(pf, &opts.statePath, ": its canary users are not judged (read only if it exists)")
	pf.BoolVar(&opts.keyIDs, "key-ids", true, "name keys by id (one ListAccessKeys per user holding a key); false: by credential-report slot, in a handful of calls however many users")
	addRegions(pf, &opts.scope.Regions, "read EC2, Lambda, ECS and SSM in these regions only")
	pf.StringVar(&opts.asOf, "as-of", "", "judge ages at this time: 2027-01-01, RFC 3339, or +30d/-2w/+12h from now (default: now)")
	opts.maxKeyAge = addSpan(pf, "max-key-age", "90d", false, "an active key older than this must be rotated")
	opts.maxUnused = addSpan(pf, "max-unused", "45d", false, "an active key unused this long must go")
	pf.IntVar(&opts.newUserDays, "new-user-days", 30, "list users created within this many days for review")
	pf.StringSliceVar(&opts.thirdPartyTags, "third-party-tag", audit.DefaultThirdPartyTags,
		"KEY=VALUE user tags that mark a third party's user, which must not hold an active key (repeat or comma-separate)")
	pf.StringSliceVar(&opts.requiredTags, "required-tag", nil,
		"tag KEY every user, role, Access Analyzer analyzer and trail must have (repeat or comma-separate; default: any tag not starting with aws:)")
	opts.format = addFormat(cmd, pf, "", auditFormats...)
	pf.Lookup("format").Usage += " (audit keys, --diff: " + strings.Join(keysFormats, "|") + ")"
	pf.BoolVar(&opts.scope.Org, "org", false, "audit every ACTIVE account of the caller's AWS Organization (run from the management account)")
	pf.StringVar(&opts.scope.RoleName, "role-name", auditaws.DefaultOrgRole, "with --org: the role assumed in each member account")
	pf.IntVar(&opts.scope.Concurrency, "org-concurrency", auditaws.DefaultOrgConcurrency, "with --org: how many accounts are read at once")
	pf.StringVarP(&opts.output, "output", "o", "", "write the report to FILE instead of stdout")
	cmd.Flags().StringVar(&opts.diff, "diff", "", "list what changed since an earlier audit's json report: new users and keys, keys newly stale, findings fixed")
	opts.failOn = addFailOn(cmd, cmd.Flags(), severity.Low, "a finding")

	keys := &cobra.Command{
		Use:     "keys",
		Short:   "List every access key with its age, last use, owner's MFA and admin rights, and findings",
		Long:    auditKeysLong,
		Example: "  keywarden audit keys\n  keywarden audit keys --as-of 2027-01-01 --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolve(deps.Now(), true); err != nil {
				return usageErr(err)
			}
			return runAuditKeys(cmd.Context(), *opts, deps)
		},
	}
	cmd.AddCommand(keys)
	return cmd
}

// resolve checks what the flags cannot check alone and builds the judging
// options; tables (audit keys, --diff) narrow the formats. Every error
// names its flag.
func (o *auditOptions) resolve(now time.Time, table bool) error {
	if table {
		if err := (&formatFlag{names: keysFormats}).Set(o.format.value); err != nil {
			return fmt.Errorf("--format %q: %w", o.format.value, err)
		}
	}
	var asOf time.Time
	if o.asOf != "" {
		var err error
		if asOf, err = audit.ParseAsOf(o.asOf, now); err != nil {
			return err
		}
	}
	switch {
	case o.newUserDays < 1:
		return fmt.Errorf("--new-user-days %d: want a positive number of days", o.newUserDays)
	case o.scope.Concurrency < 1:
		return fmt.Errorf("--org-concurrency %d: want a positive number", o.scope.Concurrency)
	case o.scope.RoleName == "":
		return fmt.Errorf("--role-name: want a role name")
	}
	for _, tag := range o.thirdPartyTags {
		if key, _, ok := strings.Cut(tag, "="); !ok || key == "" {
			return fmt.Errorf("--third-party-tag %q: want KEY=VALUE", tag)
		}
	}
	for _, key := range o.requiredTags {
		if key == "" || strings.HasPrefix(key, "aws:") {
			return fmt.Errorf("--required-tag %q: want a tag key of your own (aws: keys are AWS's)", key)
		}
	}
	o.scope.NoKeyIDs = !o.keyIDs
	cfg := audit.Config{AsOf: asOf, MaxKeyAge: o.maxKeyAge.d, MaxUnused: o.maxUnused.d,
		NewUser: time.Duration(o.newUserDays) * 24 * time.Hour, ThirdPartyTags: o.thirdPartyTags,
		RequiredTags: o.requiredTags}
	o.judge = audit.Options{Config: cfg, Org: o.scope.Org, Role: o.scope.RoleName}
	return nil
}
