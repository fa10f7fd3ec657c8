// Package auditaws reads an AWS account, or every account of an
// organization, into the audit's Inventory: the credential report, the
// authorization details, the access key ids, the account settings, CloudTrail
// trails with their buckets and log groups (metric filters, alarms), and in
// every region the Access Analyzer analyzers, the EC2 instances and the
// places where keys get pasted. It only
// fetches facts: the policy verdicts and the search for embedded keys are
// the audit engine's (internal/audit), which it hands the documents and texts
// it read.
package auditaws

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/clock"
)

// Options tune ReadAccount; the zero value reads everything.
type Options struct {
	// Regions narrows the regional reads (EC2 instances, embedded keys) to
	// these regions; empty reads every region enabled for the account.
	Regions []string
	// NoKeyIDs skips the one ListAccessKeys per user holding a key: keys
	// are then known by their credential-report slot only, and the read
	// costs a handful of calls plus one per page whatever the user count.
	NoKeyIDs bool
	// Progress, when set, counts what the read has done, for a progress
	// line; one Progress serves every account of an organization.
	Progress *Progress
}

// Progress counts what a read has done so far; safe for concurrent use.
type Progress struct {
	Accounts, AccountsTotal atomic.Int64 // with --org: accounts read (or failed), of those listed
	Users                   atomic.Int64 // users of the credential reports read
	Regions                 atomic.Int64 // regions read, each account's
}

// String is the progress line: "audit read: accounts 2/5, users 140, regions 34".
func (p *Progress) String() string {
	s := fmt.Sprintf("users %d, regions %d", p.Users.Load(), p.Regions.Load())
	if total := p.AccountsTotal.Load(); total > 0 {
		s = fmt.Sprintf("accounts %d/%d, %s", p.Accounts.Load(), total, s)
	}
	return "audit read: " + s
}

// usersRead, regionRead and accountRead count on p; a nil p counts nothing.
func (p *Progress) usersRead(n int) {
	if p != nil {
		p.Users.Add(int64(n))
	}
}

func (p *Progress) regionRead() {
	if p != nil {
		p.Regions.Add(1)
	}
}

func (p *Progress) accountRead() {
	if p != nil {
		p.Accounts.Add(1)
	}
}

// AccessDeniedError names the IAM actions a required read was denied.
type AccessDeniedError struct {
	Actions []string // e.g. "iam:GetAccountAuthorizationDetails", sorted
}

func (e *AccessDeniedError) Error() string {
	return "access denied: the caller lacks " + strings.Join(e.Actions, ", ") +
		" (the read-only policy is in docs/iam.md#audit)"
}

// Unwrap lets errors.Is(err, awsx.ErrAccessDenied) hold.
func (e *AccessDeniedError) Unwrap() error { return awsx.ErrAccessDenied }

// ReadStats counts what the read cost, for the README/note and for --verbose.
type ReadStats struct {
	// Calls counts HTTP requests per operation ("iam:GetCredentialReport"),
	// retries included: that is what the account's rate limits see.
	Calls     map[string]int
	Total     int
	ReportAge time.Duration // how old the credential report was when read
}

// auditMaxAttempts is the retry budget for audit reads. IAM throttles
// account-wide at low rates; a big account's read would otherwise fail on
// its first burst. The user's AWS_MAX_ATTEMPTS, when set, wins.
const auditMaxAttempts = 10

// reportPolls bounds credential-report polling: with the delays below,
// about three minutes, more than AWS needs for its largest accounts.
const (
	reportPolls        = 25
	reportPollFirst    = time.Second
	reportPollMaxDelay = 8 * time.Second
)

// accountReader holds one ReadAccount's clients, counters and findings.
type accountReader struct {
	// cfg builds the read's clients: the audit's retry budget, every
	// attempt counted.
	cfg      aws.Config
	noKeyIDs bool // Options.NoKeyIDs
	iam      *iam.Client
	mu       sync.Mutex
	calls    map[string]int
	denied   []string // actions denied on required reads
	// unreported names users newer than the credential report.
	unreported []string
	inv        *audit.Inventory
	regions    []string // Options.Regions: empty reads every enabled region
	progress   *Progress
}

// ReadAccount reads one account's inventory for the audit: credential report, account summary, authorization
// details (users, groups, policies, judged by audit.JudgeUserPolicies into Admin/Dangerous/Groups per user), and the
// access key ids, the account's password policy, virtual MFA devices and server certificates (account.go).
// opts.Regions chooses the regions of the regional reads (EC2 instances, embedded keys); empty reads
// every region enabled for the account.
//
// The cost is a handful of calls, plus one per page of authorization
// details, plus one ListAccessKeys (per page) for each user with a key, plus
// two per AWS-managed policy attached in the account other than
// AdministratorAccess, plus the optional infrastructure reads of
// infra.go (CloudTrail trails, EC2 instances). Reads that fail leave their facts unknown and add a
// warning; a required read (the credential report, the authorization
// details) that is denied fails the whole read with an *AccessDeniedError
// naming every missing action. Last it reads, in every region enabled for
// the account (one ec2:DescribeRegions, regions.go), the EC2 instances
// and the Lambda environments, EC2 user data, ECS task definitions and SSM
// String parameters for embedded keys (embedded.go), and the IAM Access
// Analyzer analyzers (analyzers.go), all optional. The trails' buckets and
// log groups are read with the trails (trailfacts.go).
func ReadAccount(ctx context.Context, cfg aws.Config, opts Options) (*audit.Inventory, ReadStats, error) {
	r := &accountReader{calls: map[string]int{}, regions: slices.Clone(opts.Regions), noKeyIDs: opts.NoKeyIDs, progress: opts.Progress}
	r.cfg = cfg.Copy()
	r.cfg.Retryer = func() aws.Retryer { return auditRetryer(cfg) }
	r.cfg.APIOptions = append(slices.Clip(cfg.APIOptions), r.countCalls)
	r.iam = awsx.IAM(r.cfg)
	inv, stats, err := r.read(ctx)
	stats.Calls, stats.Total = r.callStats()
	return inv, stats, err
}

func (r *accountReader) read(ctx context.Context) (*audit.Inventory, ReadStats, error) {
	var stats ReadStats
	report, repErr := r.credentialReport(ctx)
	details, detErr := r.authorizationDetails(ctx)
	if len(r.denied) > 0 {
		slices.Sort(r.denied)
		return nil, stats, fmt.Errorf("read account: %w", &AccessDeniedError{Actions: slices.Compact(r.denied)})
	}
	if repErr != nil {
		return nil, stats, fmt.Errorf("read account: %w", repErr)
	}
	if detErr != nil {
		return nil, stats, fmt.Errorf("read account: %w", detErr)
	}
	generated := aws.ToTime(report.GeneratedTime)
	inv, err := audit.ParseCredentialReport(bytes.NewReader(report.Content), generated)
	if err != nil {
		return nil, stats, fmt.Errorf("read account: credential report: %w", err)
	}
	r.inv = inv
	r.progress.usersRead(len(inv.Users))
	stats.ReportAge = inv.ReportAge(time.Now())
	r.addMissingUsers(details)
	if inv.Root == nil {
		r.rootFromSummary(ctx)
	}
	r.applyPolicies(ctx, details)
	r.applyRoles(details)
	r.accountSettings(ctx)
	if err := r.infrastructure(ctx); err != nil {
		return nil, stats, fmt.Errorf("read account: %w", err)
	}
	if inv.AccountID == "" {
		r.accountID(ctx)
	}
	// Key ids (IAM, one call per key holder) and the regional reads touch
	// different parts of the inventory: overlap their latencies.
	var g errgroup.Group
	if !r.noKeyIDs {
		g.Go(func() error { return r.keyIDs(ctx) })
	}
	g.Go(func() error { return r.regionalReads(ctx) })
	if err := g.Wait(); err != nil {
		return nil, stats, fmt.Errorf("read account: %w", err)
	}
	return inv, stats, nil
}

// configIn is the read's configuration for region ("" keeps the configured one),
// with LenientErrors, for the clients awsx has no builder for.
func (r *accountReader) configIn(region string) aws.Config {
	cfg := r.cfg.Copy()
	if region != "" {
		cfg.Region = region
	}
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), awsx.LenientErrors)
	return cfg
}

// auditRetryer is the SDK's standard retryer with a bigger budget and no
// client-side retry quota: throttling is the expected failure of a long
// read, and the quota would turn a slow read into a failed one. An answer
// that is not the service's protocol is not retried: the service is not
// served there (a local emulator without it), and ten tries per region
// would only make the run slow.
func auditRetryer(cfg aws.Config) aws.Retryer {
	attempts := auditMaxAttempts
	if cfg.RetryMaxAttempts > 0 {
		attempts = cfg.RetryMaxAttempts
	}
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = attempts
		o.RateLimiter = ratelimit.None
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if awsx.IsForeignAnswer(err) {
				return aws.FalseTernary
			}
			return aws.UnknownTernary
		})}, o.Retryables...)
	})
}

// countCalls counts every request sent, after the retry middleware so that
// each attempt counts.
func (r *accountReader) countCalls(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("KeywardenCountCalls",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			name := strings.ToLower(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx)
			r.mu.Lock()
			r.calls[name]++
			r.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (r *accountReader) callStats() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	total := 0
	for _, n := range r.calls {
		total += n
	}
	return maps.Clone(r.calls), total
}

// required classifies a failed required read: denials are collected, so one
// error can name every missing action; other errors are returned wrapped.
func (r *accountReader) required(action string, err error) error {
	if awsx.IsDenied(err) {
		r.mu.Lock()
		r.denied = append(r.denied, action)
		r.mu.Unlock()
	}
	return fmt.Errorf("%s: %w", action, err)
}

// warn records a fact left unknown.
func (r *accountReader) warn(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.Warnings = append(r.inv.Warnings, fmt.Sprintf(format, args...))
}

// unread records a read that failed, leaving facts unknown: a warning and
// a gap the audit names as not read.
func (r *accountReader) unread(source, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.Warnings = append(r.inv.Warnings, source+" "+reason)
	r.inv.Unread = append(r.inv.Unread, audit.Gap{Source: source, Reason: reason})
}

// optional turns a failed optional read into a warning and a gap.
func (r *accountReader) optional(action, unknown string, err error) {
	if awsx.IsDenied(err) {
		r.unread(action, fmt.Sprintf("denied (add it to the audit policy): %s unknown", unknown))
		return
	}
	r.unread(action, fmt.Sprintf("failed: %v: %s unknown", err, unknown))
}

// credentialReport asks IAM for a report and polls until it is ready.
// GenerateCredentialReport is the documented poll: it answers COMPLETE once
// a report (AWS's cached one, up to 4 hours old) can be fetched.
func (r *accountReader) credentialReport(ctx context.Context) (*iam.GetCredentialReportOutput, error) {
	delay := reportPollFirst
	for poll := 0; ; poll++ {
		gen, err := r.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, r.required("iam:GenerateCredentialReport", err)
		}
		// The first poll fetches whatever the state: some endpoints (moto)
		// say STARTED and serve the report at once.
		if gen.State == iamtypes.ReportStateTypeComplete || poll == 0 {
			out, err := r.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			if err == nil {
				return out, nil
			}
			if !reportPending(err) {
				return nil, r.required("iam:GetCredentialReport", err)
			}
		}
		if poll == reportPolls {
			return nil, fmt.Errorf("credential report still not ready after %d polls", poll+1)
		}
		if err := clock.Sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("wait for the credential report: %w", err)
		}
		delay = min(2*delay, reportPollMaxDelay)
	}
}

// reportPending reports whether GetCredentialReport failed only because the
// report is still being generated (or expired and must be generated again).
func reportPending(err error) bool {
	var notReady *iamtypes.CredentialReportNotReadyException
	var notPresent *iamtypes.CredentialReportNotPresentException
	var expired *iamtypes.CredentialReportExpiredException
	return errors.As(err, &notReady) || errors.As(err, &notPresent) || errors.As(err, &expired)
}

// rootFromSummary fills the root user from GetAccountSummary when the report
// has no <root_account> row: the summary says whether root has keys (not how
// many, nor their status, which stays unknown and is judged as active) and
// whether it has MFA.
func (r *accountReader) rootFromSummary(ctx context.Context) {
	out, err := r.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		r.optional("iam:GetAccountSummary", "root user's keys and MFA", err)
		return
	}
	keys, okKeys := out.SummaryMap[string(iamtypes.SummaryKeyTypeAccountAccessKeysPresent)]
	mfa, okMFA := out.SummaryMap[string(iamtypes.SummaryKeyTypeAccountMFAEnabled)]
	if !okKeys || !okMFA {
		r.unread("iam:GetAccountSummary", "lacks AccountAccessKeysPresent or AccountMFAEnabled: root user's keys and MFA unknown")
		return
	}
	root := &audit.Root{MFA: audit.TriOf(mfa > 0)}
	if keys > 0 {
		root.Keys = []audit.Key{{}} // exists; status, dates unknown
	}
	r.inv.Root = root
}

// accountID asks STS whose account this is, for an account with no users
// (no ARN in the report); GetCallerIdentity needs no permission.
func (r *accountReader) accountID(ctx context.Context) {
	id, err := awsx.CallerIdentity(ctx, r.cfg)
	if err != nil {
		r.optional("sts:GetCallerIdentity", "account id", cmp.Or(errors.Unwrap(err), err)) // without awsx's "sts get-caller-identity:"
		return
	}
	r.inv.AccountID = id.Account
}
