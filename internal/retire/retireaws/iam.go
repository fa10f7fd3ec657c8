package retireaws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/retire"
)

// Provider reads the OIDC provider at arn.
func (a *IAM) Provider(ctx context.Context, arn string) (retire.Resource, bool, error) {
	out, err := a.client().GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if awsx.IsNoSuchEntity(err) {
		return retire.Resource{}, false, nil
	}
	if err != nil {
		return retire.Resource{}, false, fmt.Errorf("iam get-open-id-connect-provider %s: %w", arn, err)
	}
	return retire.Resource{ARN: arn, Tags: tagMap(out.Tags), ClientIDs: out.ClientIDList}, true, nil
}

// CreateProvider creates the OIDC provider of url, tagged. No thumbprint:
// IAM trusts the issuer's certificate authority for GitHub and GitLab.
func (a *IAM) CreateProvider(ctx context.Context, url string, clientIDs []string, tags map[string]string) (string, error) {
	out, err := a.client().CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String(url), ClientIDList: clientIDs, Tags: tagList(tags)})
	if err != nil {
		return "", created("iam create-open-id-connect-provider "+url, err)
	}
	return aws.ToString(out.OpenIDConnectProviderArn), nil
}

// DeleteProvider deletes the OIDC provider at arn; one gone is no error.
func (a *IAM) DeleteProvider(ctx context.Context, arn string) error {
	_, err := a.client().DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	return removed("iam delete-open-id-connect-provider "+arn, err)
}

// Role reads the role name: ARN, tags, last use.
func (a *IAM) Role(ctx context.Context, name string) (retire.Role, bool, error) {
	out, err := a.client().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if awsx.IsNoSuchEntity(err) {
		return retire.Role{}, false, nil
	}
	if err != nil {
		return retire.Role{}, false, fmt.Errorf("iam get-role %s: %w", name, err)
	}
	r := retire.Role{Resource: retire.Resource{ARN: aws.ToString(out.Role.Arn), Tags: tagMap(out.Role.Tags)}}
	if u := out.Role.RoleLastUsed; u != nil && u.LastUsedDate != nil {
		r.LastUsed = *u.LastUsedDate
	}
	return r, true, nil
}

// CreateRole creates the role name with the trust policy, tagged.
func (a *IAM) CreateRole(ctx context.Context, name, trust, description string, tags map[string]string) (string, error) {
	out, err := a.client().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(trust), Description: aws.String(description), Tags: tagList(tags)})
	if err != nil {
		return "", created("iam create-role "+name, err)
	}
	return aws.ToString(out.Role.Arn), nil
}

// PutRolePolicy sets role's inline policy name to doc.
func (a *IAM) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	_, err := a.client().PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role),
		PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		return fmt.Errorf("iam put-role-policy %s %s: %w", role, name, err)
	}
	return nil
}

// DeleteRolePolicy deletes role's inline policy name; one gone is no error.
func (a *IAM) DeleteRolePolicy(ctx context.Context, role, name string) error {
	_, err := a.client().DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	return removed("iam delete-role-policy "+role+" "+name, err)
}

// DeleteRole deletes the role name; one gone is no error.
func (a *IAM) DeleteRole(ctx context.Context, name string) error {
	_, err := a.client().DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	return removed("iam delete-role "+name, err)
}

// InstanceProfile reads the instance profile name: ARN, tags, roles.
func (a *IAM) InstanceProfile(ctx context.Context, name string) (retire.Resource, bool, error) {
	out, err := a.client().GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if awsx.IsNoSuchEntity(err) {
		return retire.Resource{}, false, nil
	}
	if err != nil {
		return retire.Resource{}, false, fmt.Errorf("iam get-instance-profile %s: %w", name, err)
	}
	p := retire.Resource{ARN: aws.ToString(out.InstanceProfile.Arn), Tags: tagMap(out.InstanceProfile.Tags)}
	for _, r := range out.InstanceProfile.Roles {
		p.Roles = append(p.Roles, aws.ToString(r.RoleName))
	}
	return p, true, nil
}

// CreateInstanceProfile creates the instance profile name, tagged.
func (a *IAM) CreateInstanceProfile(ctx context.Context, name string, tags map[string]string) (string, error) {
	out, err := a.client().CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Tags: tagList(tags)})
	if err != nil {
		return "", created("iam create-instance-profile "+name, err)
	}
	return aws.ToString(out.InstanceProfile.Arn), nil
}

// AddRoleToInstanceProfile puts role into profile; a profile that holds a
// role already (it holds one at most) answers LimitExceeded, which is
// success when that role is role.
func (a *IAM) AddRoleToInstanceProfile(ctx context.Context, profile, role string) error {
	_, err := a.client().AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{
		InstanceProfileName: aws.String(profile), RoleName: aws.String(role)})
	if code := awsx.ErrorCode(err); code == "LimitExceeded" || code == "EntityAlreadyExists" {
		if p, found, rerr := a.InstanceProfile(ctx, profile); rerr == nil && found && len(p.Roles) == 1 && p.Roles[0] == role {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("iam add-role-to-instance-profile %s %s: %w", profile, role, err)
	}
	return nil
}

// RemoveRoleFromInstanceProfile takes role out of profile; not there is no error.
func (a *IAM) RemoveRoleFromInstanceProfile(ctx context.Context, profile, role string) error {
	_, err := a.client().RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{
		InstanceProfileName: aws.String(profile), RoleName: aws.String(role)})
	return removed("iam remove-role-from-instance-profile "+profile+" "+role, err)
}

// DeleteInstanceProfile deletes the instance profile name; one gone is no error.
func (a *IAM) DeleteInstanceProfile(ctx context.Context, name string) error {
	_, err := a.client().DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)})
	return removed("iam delete-instance-profile "+name, err)
}

// created wraps a create's error, retire.ErrExists when the name is taken.
func created(what string, err error) error {
	if awsx.ErrorCode(err) == "EntityAlreadyExists" {
		return fmt.Errorf("%s: %w", what, retire.ErrExists)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// removed is a delete's error: nil when the thing is gone already.
func removed(what string, err error) error {
	if err == nil || awsx.IsNoSuchEntity(err) {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func tagList(tags map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

func tagMap(tags []types.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
