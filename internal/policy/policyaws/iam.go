// Package policyaws is the policy verbs' IAM adapter: it reads a user's or
// role's policies exactly as IAM holds them (the snapshot apply journals),
// creates, attaches, detaches and deletes the keywarden policy, puts inline
// policies back, and asks Access Advisor which services a principal used.
package policyaws

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/policy"
)

// Path is the IAM path of every policy keywarden creates.
const Path = "/keywarden/"

// IAM makes the policy verbs' calls, signed with the credentials of the
// aws.Config it was built from.
type IAM struct {
	cfg aws.Config
	// Poll is how often LastAccessed asks whether its report is ready (0: 1s).
	Poll time.Duration
}

var (
	_ policy.IAM     = (*IAM)(nil)
	_ policy.Advisor = (*IAM)(nil)
)

// New uses cfg's credentials, endpoints and retry policy.
func New(cfg aws.Config) *IAM { return &IAM{cfg: awsx.ForIAM(cfg)} }

func (a *IAM) client() *iam.Client { return awsx.IAM(a.cfg) }

// Current reads the principal's attached managed policies (each with its
// default version and document), inline policies, permissions boundary and,
// for a user, its groups' policies.
func (a *IAM) Current(ctx context.Context, p policy.Principal) (policy.Current, error) {
	var c policy.Current
	var err error
	if p.Type == "role" {
		err = a.role(ctx, p.Name, &c)
	} else {
		err = a.user(ctx, p.Name, &c)
	}
	if err != nil {
		return policy.Current{}, err
	}
	c.Sort()
	return c, nil
}

func (a *IAM) user(ctx context.Context, name string, c *policy.Current) error {
	u, err := a.client().GetUser(ctx, &iam.GetUserInput{UserName: &name})
	if err != nil {
		return fmt.Errorf("iam get-user %s: %w", name, err)
	}
	if b := u.User.PermissionsBoundary; b != nil {
		c.Boundary = aws.ToString(b.PermissionsBoundaryArn)
	}
	if c.Attached, err = a.attached(ctx, func(m *string) ([]iamtypes.AttachedPolicy, *string, error) {
		out, err := a.client().ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: &name, Marker: m})
		if err != nil {
			return nil, nil, fmt.Errorf("iam list-attached-user-policies %s: %w", name, err)
		}
		return out.AttachedPolicies, marker(out.IsTruncated, out.Marker), nil
	}); err != nil {
		return err
	}
	if c.Inline, err = a.userInline(ctx, name); err != nil {
		return err
	}
	var m *string
	for {
		out, err := a.client().ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: &name, Marker: m})
		if err != nil {
			return fmt.Errorf("iam list-groups-for-user %s: %w", name, err)
		}
		for _, g := range out.Groups {
			grp, err := a.group(ctx, aws.ToString(g.GroupName))
			if err != nil {
				return err
			}
			c.Groups = append(c.Groups, grp)
		}
		if m = marker(out.IsTruncated, out.Marker); m == nil {
			return nil
		}
	}
}

func (a *IAM) userInline(ctx context.Context, user string) ([]policy.Inline, error) {
	var out []policy.Inline
	var m *string
	for {
		page, err := a.client().ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: &user, Marker: m})
		if err != nil {
			return nil, fmt.Errorf("iam list-user-policies %s: %w", user, err)
		}
		for _, n := range page.PolicyNames {
			got, err := a.client().GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &user, PolicyName: aws.String(n)})
			if err != nil {
				return nil, fmt.Errorf("iam get-user-policy %s %s: %w", user, n, err)
			}
			doc, err := decode(aws.ToString(got.PolicyDocument))
			if err != nil {
				return nil, fmt.Errorf("inline policy %s of %s: %w", n, user, err)
			}
			out = append(out, policy.Inline{Name: n, Document: doc})
		}
		if m = marker(page.IsTruncated, page.Marker); m == nil {
			return out, nil
		}
	}
}

func (a *IAM) group(ctx context.Context, name string) (policy.Group, error) {
	g := policy.Group{Name: name}
	var err error
	if g.Attached, err = a.attached(ctx, func(m *string) ([]iamtypes.AttachedPolicy, *string, error) {
		out, err := a.client().ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: &name, Marker: m})
		if err != nil {
			return nil, nil, fmt.Errorf("iam list-attached-group-policies %s: %w", name, err)
		}
		return out.AttachedPolicies, marker(out.IsTruncated, out.Marker), nil
	}); err != nil {
		return g, err
	}
	var m *string
	for {
		page, err := a.client().ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: &name, Marker: m})
		if err != nil {
			return g, fmt.Errorf("iam list-group-policies %s: %w", name, err)
		}
		for _, n := range page.PolicyNames {
			got, err := a.client().GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &name, PolicyName: aws.String(n)})
			if err != nil {
				return g, fmt.Errorf("iam get-group-policy %s %s: %w", name, n, err)
			}
			doc, err := decode(aws.ToString(got.PolicyDocument))
			if err != nil {
				return g, fmt.Errorf("inline policy %s of group %s: %w", n, name, err)
			}
			g.Inline = append(g.Inline, policy.Inline{Name: n, Document: doc})
		}
		if m = marker(page.IsTruncated, page.Marker); m == nil {
			return g, nil
		}
	}
}

func (a *IAM) role(ctx context.Context, name string, c *policy.Current) error {
	r, err := a.client().GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if err != nil {
		return fmt.Errorf("iam get-role %s: %w", name, err)
	}
	if b := r.Role.PermissionsBoundary; b != nil {
		c.Boundary = aws.ToString(b.PermissionsBoundaryArn)
	}
	if c.Attached, err = a.attached(ctx, func(m *string) ([]iamtypes.AttachedPolicy, *string, error) {
		out, err := a.client().ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name, Marker: m})
		if err != nil {
			return nil, nil, fmt.Errorf("iam list-attached-role-policies %s: %w", name, err)
		}
		return out.AttachedPolicies, marker(out.IsTruncated, out.Marker), nil
	}); err != nil {
		return err
	}
	var m *string
	for {
		page, err := a.client().ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name, Marker: m})
		if err != nil {
			return fmt.Errorf("iam list-role-policies %s: %w", name, err)
		}
		for _, n := range page.PolicyNames {
			got, err := a.client().GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: aws.String(n)})
			if err != nil {
				return fmt.Errorf("iam get-role-policy %s %s: %w", name, n, err)
			}
			doc, err := decode(aws.ToString(got.PolicyDocument))
			if err != nil {
				return fmt.Errorf("inline policy %s of role %s: %w", n, name, err)
			}
			c.Inline = append(c.Inline, policy.Inline{Name: n, Document: doc})
		}
		if m = marker(page.IsTruncated, page.Marker); m == nil {
			return nil
		}
	}
}

// attached pages through a list of attached policies and reads each one's
// default version (customer managed) and document.
func (a *IAM) attached(ctx context.Context, page func(*string) ([]iamtypes.AttachedPolicy, *string, error)) ([]policy.Managed, error) {
	var out []policy.Managed
	var m *string
	for {
		ps, next, err := page(m)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			mp, err := a.managed(ctx, aws.ToString(p.PolicyArn))
			if err != nil {
				return nil, err
			}
			out = append(out, mp)
		}
		if m = next; m == nil {
			return out, nil
		}
	}
}

func (a *IAM) managed(ctx context.Context, arn string) (policy.Managed, error) {
	got, err := a.client().GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
	if err != nil {
		return policy.Managed{}, fmt.Errorf("iam get-policy %s: %w", arn, err)
	}
	version := aws.ToString(got.Policy.DefaultVersionId)
	v, err := a.client().GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &arn, VersionId: &version})
	if err != nil {
		return policy.Managed{}, fmt.Errorf("iam get-policy-version %s %s: %w", arn, version, err)
	}
	doc, err := decode(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		return policy.Managed{}, fmt.Errorf("policy %s: %w", arn, err)
	}
	m := policy.Managed{ARN: arn, Document: doc}
	if !awsManaged(arn) {
		m.DefaultVersion = version // AWS managed policies' versions are AWS's to set
	}
	return m, nil
}

func awsManaged(arn string) bool { return strings.Contains(arn, ":iam::aws:policy/") }

// CreatePolicy creates name under Path, tagged.
func (a *IAM) CreatePolicy(ctx context.Context, name, doc string, tags map[string]string) (string, error) {
	in := &iam.CreatePolicyInput{PolicyName: &name, Path: aws.String(Path), PolicyDocument: &doc,
		Description: aws.String("least privilege from observed use, applied by keywarden policy apply")}
	for k, v := range tags {
		in.Tags = append(in.Tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := a.client().CreatePolicy(ctx, in)
	if awsx.ErrorCode(err) == "EntityAlreadyExists" {
		arn, _, lerr := a.PolicyExists(ctx, name)
		if lerr != nil {
			return "", lerr
		}
		return arn, fmt.Errorf("iam create-policy %s: %w", name, policy.ErrPolicyExists)
	}
	if err != nil {
		return "", fmt.Errorf("iam create-policy %s: %w", name, err)
	}
	return aws.ToString(out.Policy.Arn), nil
}

// PolicyExists looks name up among the account's policies under Path.
func (a *IAM) PolicyExists(ctx context.Context, name string) (string, bool, error) {
	var m *string
	for {
		out, err := a.client().ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal,
			PathPrefix: aws.String(Path), Marker: m})
		if err != nil {
			return "", false, fmt.Errorf("iam list-policies %s: %w", Path, err)
		}
		for _, p := range out.Policies {
			if aws.ToString(p.PolicyName) == name {
				return aws.ToString(p.Arn), true, nil
			}
		}
		if m = marker(out.IsTruncated, out.Marker); m == nil {
			return "", false, nil
		}
	}
}

// DeletePolicy deletes arn's non-default versions, then arn.
func (a *IAM) DeletePolicy(ctx context.Context, arn string) error {
	vs, err := a.client().ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: &arn})
	if awsx.IsNoSuchEntity(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("iam list-policy-versions %s: %w", arn, err)
	}
	for _, v := range vs.Versions {
		if v.IsDefaultVersion {
			continue
		}
		_, err := a.client().DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: &arn, VersionId: v.VersionId})
		if err != nil && !awsx.IsNoSuchEntity(err) {
			return fmt.Errorf("iam delete-policy-version %s %s: %w", arn, aws.ToString(v.VersionId), err)
		}
	}
	_, err = a.client().DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: &arn})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-policy %s: %w", arn, err)
	}
	return nil
}

// Attach attaches arn to the principal (attaching it again changes nothing).
func (a *IAM) Attach(ctx context.Context, p policy.Principal, arn string) error {
	var err error
	if p.Type == "role" {
		_, err = a.client().AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &p.Name, PolicyArn: &arn})
	} else {
		_, err = a.client().AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &p.Name, PolicyArn: &arn})
	}
	if err != nil {
		return fmt.Errorf("iam attach-%s-policy %s %s: %w", p.Type, p.Name, arn, err)
	}
	return nil
}

// Detach detaches arn from the principal; not attached is not an error.
func (a *IAM) Detach(ctx context.Context, p policy.Principal, arn string) error {
	var err error
	if p.Type == "role" {
		_, err = a.client().DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &p.Name, PolicyArn: &arn})
	} else {
		_, err = a.client().DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: &p.Name, PolicyArn: &arn})
	}
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam detach-%s-policy %s %s: %w", p.Type, p.Name, arn, err)
	}
	return nil
}

// PutInline sets the principal's inline policy name to doc, as given.
func (a *IAM) PutInline(ctx context.Context, p policy.Principal, name, doc string) error {
	var err error
	if p.Type == "role" {
		_, err = a.client().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &p.Name, PolicyName: &name, PolicyDocument: &doc})
	} else {
		_, err = a.client().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &p.Name, PolicyName: &name, PolicyDocument: &doc})
	}
	if err != nil {
		return fmt.Errorf("iam put-%s-policy %s %s: %w", p.Type, p.Name, name, err)
	}
	return nil
}

// DeleteInline deletes the principal's inline policy name; absent is not an error.
func (a *IAM) DeleteInline(ctx context.Context, p policy.Principal, name string) error {
	var err error
	if p.Type == "role" {
		_, err = a.client().DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &p.Name, PolicyName: &name})
	} else {
		_, err = a.client().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: &p.Name, PolicyName: &name})
	}
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-%s-policy %s %s: %w", p.Type, p.Name, name, err)
	}
	return nil
}

// SetDefaultVersion makes version arn's default, when it is not already
// (so undo needs no write where nothing changed; and moto, asked to set
// the default it has, loses it).
func (a *IAM) SetDefaultVersion(ctx context.Context, arn, version string) error {
	got, err := a.client().GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &arn})
	if err != nil {
		return fmt.Errorf("iam get-policy %s: %w", arn, err)
	}
	if aws.ToString(got.Policy.DefaultVersionId) == version {
		return nil
	}
	_, err = a.client().SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: &arn, VersionId: &version})
	if err != nil {
		return fmt.Errorf("iam set-default-policy-version %s %s: %w", arn, version, err)
	}
	return nil
}

// decode undoes the percent-encoding IAM puts on policy documents (and
// leaves a plain JSON document alone). PathUnescape: a '+' stays a '+'.
func decode(doc string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc, nil
	}
	s, err := url.PathUnescape(doc)
	if err != nil {
		return "", errors.New("the document is neither JSON nor percent-encoded JSON")
	}
	return s, nil
}

func marker(truncated bool, m *string) *string {
	if !truncated || aws.ToString(m) == "" {
		return nil
	}
	return m
}

// LastAccessed asks Access Advisor, at action level where IAM tracks
// actions, which services arn used: it starts the report job, then polls it
// every Poll (default 1s) until it completes, ctx ends or two minutes pass.
func (a *IAM) LastAccessed(ctx context.Context, arn string) ([]policy.ServiceAccess, error) {
	job, err := a.client().GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: &arn, Granularity: iamtypes.AccessAdvisorUsageGranularityTypeActionLevel})
	if err != nil {
		return nil, fmt.Errorf("iam generate-service-last-accessed-details: %w", err)
	}
	poll := a.Poll
	if poll <= 0 {
		poll = time.Second
	}
	deadline := time.Now().Add(2 * time.Minute)
	var out []policy.ServiceAccess
	var m *string
	for {
		page, err := a.client().GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId, Marker: m})
		if err != nil {
			return nil, fmt.Errorf("iam get-service-last-accessed-details: %w", err)
		}
		switch page.JobStatus {
		case iamtypes.JobStatusTypeFailed:
			reason := "no reason given"
			if page.Error != nil {
				reason = aws.ToString(page.Error.Message)
			}
			return nil, fmt.Errorf("iam get-service-last-accessed-details: the report failed: %s", reason)
		case iamtypes.JobStatusTypeInProgress:
			if time.Now().After(deadline) {
				return nil, errors.New("iam get-service-last-accessed-details: the report is not ready after 2m")
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(poll):
			}
			continue
		}
		for _, s := range page.ServicesLastAccessed {
			out = append(out, serviceAccess(s))
		}
		if m = marker(page.IsTruncated, page.Marker); m == nil {
			return out, nil
		}
	}
}

func serviceAccess(s iamtypes.ServiceLastAccessed) policy.ServiceAccess {
	ns := aws.ToString(s.ServiceNamespace)
	sa := policy.ServiceAccess{Namespace: ns, LastAccessed: aws.ToTime(s.LastAuthenticated)}
	for _, t := range s.TrackedActionsLastAccessed {
		action := aws.ToString(t.ActionName)
		if !strings.Contains(action, ":") {
			action = ns + ":" + action
		}
		sa.Actions = append(sa.Actions, policy.ActionAccess{Action: action, LastAccessed: aws.ToTime(t.LastAccessedTime)})
	}
	return sa
}
