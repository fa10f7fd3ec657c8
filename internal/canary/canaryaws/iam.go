// Package canaryaws is the canary life cycle's IAM adapter: it creates and
// removes a canary's user, deny-all inline policy and access keys with the
// AWS SDK, asks STS which account signs, and reads each key's last use for
// the unlogged-call check.
package canaryaws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// IAM makes the canary's calls, signed with the credentials of the
// aws.Config it was built from.
type IAM struct {
	cfg aws.Config
}

var _ canary.IAM = (*IAM)(nil)

// New uses cfg's credentials, endpoints and retry policy.
func New(cfg aws.Config) *IAM { return &IAM{cfg: awsx.ForIAM(cfg)} }

func (a *IAM) client() *iam.Client { return awsx.IAM(a.cfg) }

// Account asks STS who signs.
func (a *IAM) Account(ctx context.Context) (string, error) { return awsx.Account(ctx, a.cfg) }

// UserARN reads user with GetUser.
func (a *IAM) UserARN(ctx context.Context, user string) (string, bool, error) {
	out, err := a.client().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if awsx.IsNoSuchEntity(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("iam get-user %s: %w", user, err)
	}
	return aws.ToString(out.User.Arn), true, nil
}

// CreateUser creates user under path. No tags: a tag would tell the
// canary apart to anyone allowed to read the account.
func (a *IAM) CreateUser(ctx context.Context, user, path string) (string, error) {
	out, err := a.client().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user), Path: aws.String(path)})
	if awsx.ErrorCode(err) == "EntityAlreadyExists" {
		return "", fmt.Errorf("iam create-user %s: %w", user, canary.ErrUserExists)
	}
	if err != nil {
		return "", fmt.Errorf("iam create-user %s: %w", user, err)
	}
	return aws.ToString(out.User.Arn), nil
}

// PutPolicy sets user's inline policy name to doc.
func (a *IAM) PutPolicy(ctx context.Context, user, name, doc string) error {
	_, err := a.client().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user),
		PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	if err != nil {
		return fmt.Errorf("iam put-user-policy %s %s: %w", user, name, err)
	}
	return nil
}

// CreateKey creates an access key for user; its secret is in the key only.
func (a *IAM) CreateKey(ctx context.Context, user string) (credential.Key, error) {
	out, err := a.client().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return credential.Key{}, fmt.Errorf("iam create-access-key %s: %w", user, err)
	}
	return credential.Key{ID: aws.ToString(out.AccessKey.AccessKeyId),
		Secret: secret.New(aws.ToString(out.AccessKey.SecretAccessKey))}, nil
}

// ListKeys lists user's key ids; none for a user that is gone.
func (a *IAM) ListKeys(ctx context.Context, user string) ([]string, error) {
	out, err := a.client().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if awsx.IsNoSuchEntity(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("iam list-access-keys %s: %w", user, err)
	}
	ids := make([]string, 0, len(out.AccessKeyMetadata))
	for _, m := range out.AccessKeyMetadata {
		ids = append(ids, aws.ToString(m.AccessKeyId))
	}
	return ids, nil
}

// DeleteKey deletes user's key; a key already gone is not an error.
func (a *IAM) DeleteKey(ctx context.Context, user, id string) error {
	_, err := a.client().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-access-key %s: %w", id, err)
	}
	return nil
}

// DeletePolicy deletes user's inline policy; one already gone is not an error.
func (a *IAM) DeletePolicy(ctx context.Context, user, name string) error {
	_, err := a.client().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-user-policy %s %s: %w", user, name, err)
	}
	return nil
}

// DeleteUser deletes user; one already gone is not an error.
func (a *IAM) DeleteUser(ctx context.Context, user string) error {
	_, err := a.client().DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(user)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-user %s: %w", user, err)
	}
	return nil
}
