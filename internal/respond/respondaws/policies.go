package respondaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
)

// UserPolicies reads user's policies one by one (not the account-wide
// GetAccountAuthorizationDetails: an incident concerns one user) for
// respond.Assess. Reading the user's own attachments is required: a denial
// fails the call with an *ActionDeniedError. A group or managed policy that
// cannot be read is listed in Unread instead.
func (a *IAM) UserPolicies(ctx context.Context, user string) (respond.UserPolicies, error) {
	c := a.iam()
	set, err := userPolicySet(ctx, c, user)
	if err != nil {
		return respond.UserPolicies{}, err
	}
	p := respond.UserPolicies{Set: set,
		Catalog: iampolicy.Catalog{Groups: map[string]iampolicy.GroupPolicies{}, Managed: map[string]string{}}}
	for _, g := range set.Groups {
		gp, err := groupPolicies(ctx, c, g)
		if err != nil {
			p.Unread = append(p.Unread, respond.Unread{Source: "group:" + g, Err: err})
			continue
		}
		p.Catalog.Groups[g] = gp
	}
	for _, arn := range managedARNs(set, p.Catalog) {
		doc, err := managedDocument(ctx, c, arn)
		if err != nil {
			p.Unread = append(p.Unread, respond.Unread{Source: arn, Err: err})
			continue
		}
		p.Catalog.Managed[arn] = doc
	}
	return p, nil
}

// userPolicySet reads what is attached to user: boundary (GetUser), inline
// policies, managed policies and groups.
func userPolicySet(ctx context.Context, c *iam.Client, user string) (iampolicy.PolicySet, error) {
	var set iampolicy.PolicySet
	u, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		return set, respondErr("iam:GetUser", user, err)
	}
	if b := u.User.PermissionsBoundary; b != nil {
		set.Boundary = aws.ToString(b.PermissionsBoundaryArn)
	}
	names := iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	for names.HasMorePages() {
		page, err := names.NextPage(ctx)
		if err != nil {
			return set, respondErr("iam:ListUserPolicies", user, err)
		}
		for _, name := range page.PolicyNames {
			p, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
			if err != nil {
				return set, respondErr("iam:GetUserPolicy", user, fmt.Errorf("policy %s: %w", name, err))
			}
			set.Inline = append(set.Inline, iampolicy.InlinePolicy{Name: name, Document: aws.ToString(p.PolicyDocument)})
		}
	}
	attached := iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return set, respondErr("iam:ListAttachedUserPolicies", user, err)
		}
		set.Attached = append(set.Attached, attachedARNs(page.AttachedPolicies)...)
	}
	groups := iam.NewListGroupsForUserPaginator(c, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	for groups.HasMorePages() {
		page, err := groups.NextPage(ctx)
		if err != nil {
			return set, respondErr("iam:ListGroupsForUser", user, err)
		}
		for _, g := range page.Groups {
			set.Groups = append(set.Groups, aws.ToString(g.GroupName))
		}
	}
	return set, nil
}

// groupPolicies reads a group's inline and attached managed policies.
func groupPolicies(ctx context.Context, c *iam.Client, group string) (iampolicy.GroupPolicies, error) {
	var gp iampolicy.GroupPolicies
	names := iam.NewListGroupPoliciesPaginator(c, &iam.ListGroupPoliciesInput{GroupName: aws.String(group)})
	for names.HasMorePages() {
		page, err := names.NextPage(ctx)
		if err != nil {
			return gp, respondErr("iam:ListGroupPolicies", "", err)
		}
		for _, name := range page.PolicyNames {
			p, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
			if err != nil {
				return gp, respondErr("iam:GetGroupPolicy", "", fmt.Errorf("policy %s: %w", name, err))
			}
			gp.Inline = append(gp.Inline, iampolicy.InlinePolicy{Name: name, Document: aws.ToString(p.PolicyDocument)})
		}
	}
	attached := iam.NewListAttachedGroupPoliciesPaginator(c, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(group)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return gp, respondErr("iam:ListAttachedGroupPolicies", "", err)
		}
		gp.Attached = append(gp.Attached, attachedARNs(page.AttachedPolicies)...)
	}
	return gp, nil
}

// managedARNs lists, sorted and once each, the managed policies the user and
// its readable groups refer to, AdministratorAccess aside (iampolicy knows
// its document).
func managedARNs(set iampolicy.PolicySet, cat iampolicy.Catalog) []string {
	arns := slices.Clone(set.Attached)
	if set.Boundary != "" {
		arns = append(arns, set.Boundary)
	}
	for _, gp := range cat.Groups {
		arns = append(arns, gp.Attached...)
	}
	arns = slices.DeleteFunc(arns, iampolicy.IsAdministratorAccess)
	slices.Sort(arns)
	return slices.Compact(arns)
}

// managedDocument reads a managed policy's default version: GetPolicy names
// it, GetPolicyVersion holds the document.
func managedDocument(ctx context.Context, c *iam.Client, arn string) (string, error) {
	pol, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return "", respondErr("iam:GetPolicy", "", err)
	}
	ver, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return "", respondErr("iam:GetPolicyVersion", "", err)
	}
	return aws.ToString(ver.PolicyVersion.Document), nil
}

func attachedARNs(list []iamtypes.AttachedPolicy) []string {
	out := make([]string, 0, len(list))
	for _, p := range list {
		out = append(out, aws.ToString(p.PolicyArn))
	}
	return out
}
