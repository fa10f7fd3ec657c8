package awsx

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

// Rights is an IAM user's effective rights, resolved as the audit resolves
// them (inline, attached customer and AWS managed policies, the groups'
// policies, and the permissions boundary) by internal/iampolicy.
type Rights struct {
	Admin     bool     `json:"admin"`
	Dangerous []string `json:"dangerous"` // iampolicy.CapabilityNames entries the user holds, sorted
	Groups    []string `json:"groups"`
	Boundary  string   `json:"boundary,omitempty"` // permissions boundary ARN; "" when none
	// AssumableRoles are the resource patterns on which sts:AssumeRole is
	// allowed (role ARNs, possibly with wildcards; "*" for any role).
	AssumableRoles []string `json:"assumable_roles"`
	// Unknown names what could not be read or parsed ("group:NAME", policy
	// ARNs, or a parse error): when it is not empty, Admin false and
	// Dangerous are lower bounds, not verdicts.
	Unknown []string `json:"unknown,omitempty"`
}

// UserRights reads user's policies one by one (not the account-wide
// GetAccountAuthorizationDetails: an incident concerns one user) and
// resolves them. Reading the user's own attachments is required: a denial
// fails the call with an *ActionDeniedError. A group or managed policy that
// cannot be read is listed in Unknown instead.
func (a *KeyAdmin) UserRights(ctx context.Context, user string) (Rights, error) {
	c := a.iam()
	set, err := userPolicySet(ctx, c, user)
	if err != nil {
		return Rights{}, err
	}
	cat := iampolicy.Catalog{Groups: map[string]iampolicy.GroupPolicies{}, Managed: map[string]string{}}
	var unknown []string
	for _, g := range set.Groups {
		gp, err := groupPolicies(ctx, c, g)
		if err != nil {
			unknown = append(unknown, fmt.Sprintf("group:%s (%v)", g, err))
			continue
		}
		cat.Groups[g] = gp
	}
	for _, arn := range managedARNs(set, cat) {
		doc, err := managedDocument(ctx, c, arn)
		if err != nil {
			unknown = append(unknown, fmt.Sprintf("%s (%v)", arn, err))
			continue
		}
		cat.Managed[arn] = doc
	}
	eff, err := iampolicy.Resolve(set, cat)
	if err != nil {
		unknown = append(unknown, err.Error())
	}
	r := Rights{Admin: iampolicy.IsAdmin(eff).Admin, Groups: eff.Groups, Boundary: set.Boundary,
		AssumableRoles: iampolicy.AllowedResources(eff, "sts:AssumeRole")}
	for _, cap := range iampolicy.Dangerous(eff) {
		r.Dangerous = append(r.Dangerous, cap.Name)
	}
	for _, m := range eff.Missing {
		if !slices.ContainsFunc(unknown, func(u string) bool { return strings.HasPrefix(u, m+" ") }) {
			unknown = append(unknown, m)
		}
	}
	slices.Sort(unknown)
	r.Unknown = unknown
	return r, nil
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
