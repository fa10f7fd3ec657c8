// Package drillaws is the drill's AWS adapter: it creates and removes the
// drill user (tagged keywarden-drill=<id>), its inline policy and keys with
// the operator's credentials, lists the drill users, makes the
// detonation's calls with the drill key, the drill id in the user agent,
// and, for --alerts sns:TOPIC_ARN, creates, reads and removes the drill's
// SQS queue and its SNS subscription (queue.go).
package drillaws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/drill"
	"github.com/keywarden/keywarden/internal/secret"
)

// AWS makes the drill's calls; the operator's with cfg's credentials.
type AWS struct {
	cfg aws.Config
}

var _ drill.AWS = (*AWS)(nil)

// New uses cfg's credentials, endpoints and retry policy.
func New(cfg aws.Config) *AWS { return &AWS{cfg: awsx.ForIAM(cfg)} }

func (a *AWS) iam() *iam.Client { return awsx.IAM(a.cfg) }

// Account asks STS who signs.
func (a *AWS) Account(ctx context.Context) (string, error) { return awsx.Account(ctx, a.cfg) }

// CreateUser creates user tagged keywarden-drill=drillID. A user the same
// drill made before (a resumed step) is no error.
func (a *AWS) CreateUser(ctx context.Context, user, drillID string) error {
	_, err := a.iam().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user),
		Tags: []iamtypes.Tag{{Key: aws.String(drill.TagKey), Value: aws.String(drillID)}}})
	if err != nil {
		return awsx.Plain(fmt.Errorf("iam create-user %s: %w", user, err))
	}
	return nil
}

// PutPolicy sets user's inline policy name to doc.
func (a *AWS) PutPolicy(ctx context.Context, user, name, doc string) error {
	_, err := a.iam().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user),
		PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		return awsx.Plain(fmt.Errorf("iam put-user-policy %s %s: %w", user, name, err))
	}
	return nil
}

// CreateKey creates an access key for user.
func (a *AWS) CreateKey(ctx context.Context, user string) (credential.Key, error) {
	out, err := a.iam().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return credential.Key{}, awsx.Plain(fmt.Errorf("iam create-access-key %s: %w", user, err))
	}
	return credential.Key{ID: aws.ToString(out.AccessKey.AccessKeyId), Secret: secret.New(aws.ToString(out.AccessKey.SecretAccessKey))}, nil
}

// ListKeys lists user's key ids; none when the user is gone.
func (a *AWS) ListKeys(ctx context.Context, user string) ([]string, error) {
	var ids []string
	p := iam.NewListAccessKeysPaginator(a.iam(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if awsx.IsNoSuchEntity(err) {
			return nil, nil
		}
		if err != nil {
			return nil, awsx.Plain(fmt.Errorf("iam list-access-keys %s: %w", user, err))
		}
		for _, k := range out.AccessKeyMetadata {
			ids = append(ids, aws.ToString(k.AccessKeyId))
		}
	}
	return ids, nil
}

// KeyStatus is the status IAM lists for user's key id; "" when the key
// (or the user) is gone.
func (a *AWS) KeyStatus(ctx context.Context, user, id string) (string, error) {
	p := iam.NewListAccessKeysPaginator(a.iam(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if awsx.IsNoSuchEntity(err) {
			return "", nil
		}
		if err != nil {
			return "", awsx.Plain(fmt.Errorf("iam list-access-keys %s: %w", user, err))
		}
		for _, k := range out.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == id {
				return string(k.Status), nil
			}
		}
	}
	return "", nil
}

// DeleteKey deletes key id of user; a key already gone is no error.
func (a *AWS) DeleteKey(ctx context.Context, user, id string) error {
	_, err := a.iam().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return awsx.Plain(fmt.Errorf("iam delete-access-key %s %s: %w", user, id, err))
	}
	return nil
}

// ListPolicies lists user's inline policies (the drill's, and respond's
// revoke-sessions deny); none when the user is gone.
func (a *AWS) ListPolicies(ctx context.Context, user string) ([]string, error) {
	var names []string
	p := iam.NewListUserPoliciesPaginator(a.iam(), &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if awsx.IsNoSuchEntity(err) {
			return nil, nil
		}
		if err != nil {
			return nil, awsx.Plain(fmt.Errorf("iam list-user-policies %s: %w", user, err))
		}
		names = append(names, out.PolicyNames...)
	}
	return names, nil
}

// DeletePolicy deletes user's inline policy name; one already gone is no error.
func (a *AWS) DeletePolicy(ctx context.Context, user, name string) error {
	_, err := a.iam().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return awsx.Plain(fmt.Errorf("iam delete-user-policy %s %s: %w", user, name, err))
	}
	return nil
}

// DeleteUser deletes user; one already gone is no error.
func (a *AWS) DeleteUser(ctx context.Context, user string) error {
	_, err := a.iam().DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(user)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return awsx.Plain(fmt.Errorf("iam delete-user %s: %w", user, err))
	}
	return nil
}

// DrillUsers lists the users whose name starts with drill.UserPrefix and
// that carry the drill tag, with the tag's value.
func (a *AWS) DrillUsers(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	p := iam.NewListUsersPaginator(a.iam(), &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, awsx.Plain(fmt.Errorf("iam list-users: %w", err))
		}
		for _, u := range page.Users {
			name := aws.ToString(u.UserName)
			tags, err := a.iam().ListUserTags(ctx, &iam.ListUserTagsInput{UserName: u.UserName})
			if awsx.IsNoSuchEntity(err) {
				continue
			}
			if err != nil {
				return nil, awsx.Plain(fmt.Errorf("iam list-user-tags %s: %w", name, err))
			}
			for _, t := range tags.Tags {
				if aws.ToString(t.Key) == drill.TagKey {
					out[name] = aws.ToString(t.Value)
				}
			}
		}
	}
	return out, nil
}

// Call makes c with key, the drill's mark in the user agent. AWS's
// refusal is a result; only a failure to get an answer is an error.
func (a *AWS) Call(ctx context.Context, key credential.Key, c drill.Call, drillID string) (drill.CallResult, error) {
	cfg := awsx.WithKey(a.cfg, key)
	if c.Region != "" {
		cfg.Region = c.Region
	}
	cfg.RetryMaxAttempts = 1
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return awsmiddleware.AddUserAgentKeyValue("keywarden-drill", drillID)(s)
	})
	var res drill.CallResult
	err := a.call(ctx, cfg, c, drill.PersistUser(drillID), &res)
	var apiErr smithy.APIError
	switch {
	case err == nil:
		res.Allowed = true
		return res, nil
	case errors.As(err, &apiErr):
		res.Code = apiErr.ErrorCode()
		return res, nil
	}
	return res, fmt.Errorf("%s: %w", c, err)
}

func (a *AWS) call(ctx context.Context, cfg aws.Config, c drill.Call, persist string, res *drill.CallResult) error {
	var err error
	switch c.Service + ":" + c.Action {
	case "sts:GetCallerIdentity":
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	case "sts:GetSessionToken":
		var out *sts.GetSessionTokenOutput
		out, err = sts.NewFromConfig(cfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
		if err == nil {
			cr := out.Credentials
			res.Session = &credential.Key{ID: aws.ToString(cr.AccessKeyId), Secret: secret.New(aws.ToString(cr.SecretAccessKey)),
				SessionToken: secret.New(aws.ToString(cr.SessionToken))}
		}
	case "iam:ListUsers":
		_, err = iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	case "iam:ListRoles":
		_, err = iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
	case "iam:CreateUser":
		_, err = iam.NewFromConfig(cfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(persist)})
	case "iam:CreateAccessKey":
		_, err = iam.NewFromConfig(cfg).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(persist)})
	case "s3:ListBuckets":
		_, err = awsx.S3Client(cfg).ListBuckets(ctx, &s3.ListBucketsInput{})
	case "ses:GetSendQuota":
		_, err = ses.NewFromConfig(cfg).GetSendQuota(ctx, &ses.GetSendQuotaInput{})
	default:
		return fmt.Errorf("not a call a drill makes")
	}
	return err
}
