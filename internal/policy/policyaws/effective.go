// Package policyaws is policy's adapter to IAM. This file reads a
// principal's effective policy for policy suggest's report of rights
// granted and never used.
package policyaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/policy"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
)

// Rights reads effective policies through IAM.
type Rights struct{ cfg aws.Config }

var _ policy.Rights = (*Rights)(nil)

// NewRights is the reader over cfg's credentials.
func NewRights(cfg aws.Config) *Rights { return &Rights{cfg: cfg} }

// Effective resolves what IAM attaches to p now: a user's policies as
// respond reads them (its groups' too), a role's inline and attached
// policies and its boundary. Policies that could not be read are listed in
// the result's Missing.
func (r *Rights) Effective(ctx context.Context, p policy.Principal) (iampolicy.Effective, error) {
	var set iampolicy.PolicySet
	cat := iampolicy.Catalog{Groups: map[string]iampolicy.GroupPolicies{}, Managed: map[string]string{}}
	if p.Type == "user" {
		up, err := respondaws.New(r.cfg).UserPolicies(ctx, p.Name)
		if err != nil {
			return iampolicy.Effective{}, err
		}
		set, cat = up.Set, up.Catalog
	} else {
		var err error
		if set, err = rolePolicySet(ctx, awsx.IAM(r.cfg), p.Name); err != nil {
			return iampolicy.Effective{}, awsx.Plain(fmt.Errorf("read role %s: %w", p.Name, err))
		}
		// A managed policy that cannot be read stays out of the Catalog:
		// Resolve lists it in Missing.
		c := awsx.IAM(r.cfg)
		for _, arn := range slices.Concat(set.Attached, []string{set.Boundary}) {
			if arn == "" || iampolicy.IsAdministratorAccess(arn) {
				continue
			}
			if doc, err := managedDocument(ctx, c, arn); err == nil {
				cat.Managed[arn] = doc
			}
		}
	}
	eff, err := iampolicy.Resolve(set, cat)
	if err != nil {
		return eff, fmt.Errorf("resolve the policies of %s %s: %w", p.Type, p.Name, err)
	}
	return eff, nil
}

func rolePolicySet(ctx context.Context, c *iam.Client, role string) (iampolicy.PolicySet, error) {
	var set iampolicy.PolicySet
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		return set, err
	}
	if b := out.Role.PermissionsBoundary; b != nil {
		set.Boundary = aws.ToString(b.PermissionsBoundaryArn)
	}
	names := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for names.HasMorePages() {
		page, err := names.NextPage(ctx)
		if err != nil {
			return set, err
		}
		for _, n := range page.PolicyNames {
			doc, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(n)})
			if err != nil {
				return set, err
			}
			set.Inline = append(set.Inline, iampolicy.InlinePolicy{Name: n, Document: aws.ToString(doc.PolicyDocument)})
		}
	}
	attached := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return set, err
		}
		for _, a := range page.AttachedPolicies {
			set.Attached = append(set.Attached, aws.ToString(a.PolicyArn))
		}
	}
	return set, nil
}

func managedDocument(ctx context.Context, c *iam.Client, arn string) (string, error) {
	pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return "", err
	}
	ver, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return "", err
	}
	return aws.ToString(ver.PolicyVersion.Document), nil
}
