package auditaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// DefaultOrgRole is the role AWS Organizations creates in every account it
// creates, trusting the management account.
const DefaultOrgRole = "OrganizationAccountAccessRole"

// DefaultOrgConcurrency bounds how many accounts are read at once: each
// read is itself a burst of IAM calls, and IAM throttles per account but the
// caller's network and CPU are shared.
const DefaultOrgConcurrency = 4

// orgSessionName names the assumed-role sessions in the members' CloudTrail.
const orgSessionName = "keywarden-audit"

// OrgOptions tune ReadOrganization; zero fields take the defaults.
type OrgOptions struct {
	RoleName    string // role assumed in each member account (DefaultOrgRole)
	Concurrency int    // accounts read at once (DefaultOrgConcurrency)
	Options            // how each account is read
}

// Scope is what Read reads: the caller's account, or with Org every ACTIVE
// account of the caller's organization.
type Scope struct {
	Org bool
	OrgOptions
}

// Read reads the accounts of scope for the audit: the caller's account
// (ReadAccount), whose failure fails the read, or the organization's
// (ReadOrganization).
func Read(ctx context.Context, cfg aws.Config, scope Scope) ([]audit.Account, error) {
	if scope.Org {
		return ReadOrganization(ctx, cfg, scope.OrgOptions)
	}
	inv, stats, err := ReadAccount(ctx, cfg, scope.Options)
	if err != nil {
		return nil, err
	}
	return []audit.Account{{ID: inv.AccountID, Inventory: inv, ReportAge: stats.ReportAge}}, nil
}

// ReadOrganization reads every ACTIVE account of the caller's organization:
// the caller's own account with cfg as is, every other through the role
// opts.RoleName assumed in it. An account that cannot be read gets Err and
// the others are still read; only failing to list the accounts (or to learn
// the caller's account) fails the whole call. Accounts are in ListAccounts'
// order.
func ReadOrganization(ctx context.Context, cfg aws.Config, opts OrgOptions) ([]audit.Account, error) {
	role := opts.RoleName
	if role == "" {
		role = DefaultOrgRole
	}
	limit := opts.Concurrency
	if limit < 1 {
		limit = DefaultOrgConcurrency
	}
	accounts, err := listAccounts(ctx, cfg)
	if err != nil {
		return nil, err
	}
	self, err := callerAccount(ctx, cfg)
	if err != nil {
		return nil, err
	}
	mgmt, mgmtErr := managementAccount(ctx, cfg)
	if p := opts.Progress; p != nil {
		p.AccountsTotal.Store(int64(len(accounts)))
	}
	results := make([]audit.Account, len(accounts))
	var g errgroup.Group
	g.SetLimit(limit)
	for i, acct := range accounts {
		results[i] = audit.Account{ID: aws.ToString(acct.Id), Name: aws.ToString(acct.Name)}
		g.Go(func() error {
			readMember(ctx, cfg, self, role, opts.Options, &results[i])
			opts.Progress.accountRead()
			if inv := results[i].Inventory; inv != nil {
				inv.OrgManagement = mgmt
				if mgmtErr != nil && results[i].ID == self {
					inv.Warnings = append(inv.Warnings, mgmtErr.Error())
				}
			}
			return nil // a failed account is a result, not a reason to stop the others
		})
	}
	_ = g.Wait()
	return results, nil
}

// managementAccount is the organization's management account
// (organizations:DescribeOrganization), which the members' access roles
// trust. Not knowing it only costs precision: such roles are then judged
// as trusting any other account.
func managementAccount(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := orgClient(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		what := "failed: " + err.Error()
		if awsx.IsDenied(err) {
			what = "denied (add it to the audit-org policy)"
		}
		return "", fmt.Errorf("organizations:DescribeOrganization %s: the management account is unknown, so roles trusting it "+
			"are reported as trusting another account", what)
	}
	if out.Organization == nil {
		return "", nil
	}
	return aws.ToString(out.Organization.MasterAccountId), nil
}

// orgClient is an Organizations client with the audit's retries.
func orgClient(cfg aws.Config) *organizations.Client {
	return organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.Retryer = auditRetryer(cfg)
		o.APIOptions = append(slices.Clip(o.APIOptions), awsx.LenientErrors)
	})
}

// listAccounts lists the organization's ACTIVE accounts: suspended and
// closing accounts cannot be signed into.
func listAccounts(ctx context.Context, cfg aws.Config) ([]orgtypes.Account, error) {
	client := orgClient(cfg)
	var active []orgtypes.Account
	pages := organizations.NewListAccountsPaginator(client, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if awsx.IsDenied(err) {
				return nil, fmt.Errorf("list organization accounts: %w", &AccessDeniedError{Actions: []string{"organizations:ListAccounts"}})
			}
			return nil, fmt.Errorf("list organization accounts (organizations:ListAccounts; is the caller in an organization's management or delegated administrator account?): %w", err)
		}
		for _, a := range page.Accounts {
			if a.State == orgtypes.AccountStateActive || (a.State == "" && a.Status == orgtypes.AccountStatusActive) {
				active = append(active, a)
			}
		}
	}
	if len(active) == 0 {
		// A real organization always lists at least its management
		// account; an emulator outside one may answer an empty list.
		return nil, fmt.Errorf("list organization accounts: organizations:ListAccounts returned no ACTIVE account")
	}
	return active, nil
}

// callerAccount is the account cfg's credentials belong to; it is read with
// them as is rather than through a role it may not have.
func callerAccount(ctx context.Context, cfg aws.Config) (string, error) {
	id, err := awsx.CallerIdentity(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("learn the caller's account: %w", err)
	}
	return id.Account, nil
}

// readMember reads one account into res.
func readMember(ctx context.Context, cfg aws.Config, self, role string, read Options, res *audit.Account) {
	memberCfg := cfg
	if res.ID != self {
		var err error
		if memberCfg, err = assumeRole(ctx, cfg, res.ID, role); err != nil {
			res.Err = err
			return
		}
	}
	inv, stats, err := ReadAccount(ctx, memberCfg, read)
	if err != nil {
		res.Err = err
		return
	}
	if inv.AccountID == "" {
		inv.AccountID = res.ID
	}
	res.Inventory, res.ReportAge = inv, stats.ReportAge
}

// assumeRole returns cfg with credentials of role in account, fetched once
// now so that a role that cannot be assumed fails here, named as such, and
// not as a denied IAM read.
func assumeRole(ctx context.Context, cfg aws.Config, account, role string) (aws.Config, error) {
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", awsx.Partition(cfg.Region), account, role)
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = orgSessionName
	})
	member := cfg.Copy()
	member.Credentials = aws.NewCredentialsCache(provider)
	if _, err := member.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("assume role %s (sts:AssumeRole): %w", arn, err)
	}
	return member, nil
}
