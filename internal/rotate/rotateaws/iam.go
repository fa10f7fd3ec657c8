// Package rotateaws is rotate's IAM adapter: it lists, creates, activates,
// deactivates and deletes an IAM user's access keys, reads when a key was
// last used, and asks STS whether a key works and who signs. Signers builds
// the identities a rotation signs as.
package rotateaws

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/secret"
)

// IAM makes rotate's calls, signed with the credentials of the aws.Config
// it was built from, or with a key given to WithKey.
type IAM struct {
	cfg     aws.Config // for IAM and STS (awsx.ForIAM)
	targets aws.Config // for the targets that call AWS: as given, its region theirs
}

var _ rotate.Signer = (*IAM)(nil)

// New uses cfg's credentials, region, endpoints and retry policy.
func New(cfg aws.Config) *IAM {
	return &IAM{cfg: awsx.ForIAM(cfg), targets: cfg}
}

// WithKey returns an IAM that signs with key instead.
func (a *IAM) WithKey(key credential.Key) rotate.Signer { return New(withKey(a.targets, key)) }

// withKey is cfg signing with key alone, whatever credentials it held.
func withKey(cfg aws.Config, key credential.Key) aws.Config {
	cfg = cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
		key.ID, key.Secret.Reveal(), key.SessionToken.Reveal()))
	return cfg
}

// Caller asks STS who signs.
func (a *IAM) Caller(ctx context.Context) (rotate.Caller, error) {
	id, err := awsx.CallerIdentity(ctx, a.cfg)
	return rotate.Caller(id), err
}

// Kinds are the Secrets Manager and SSM targets, signing as a does.
func (a *IAM) Kinds() map[string]target.Kind { return targetaws.Kinds(a.targets) }

// ListKeys lists user's access keys (at most two), oldest first.
func (a *IAM) ListKeys(ctx context.Context, user string) ([]rotate.AccessKey, error) {
	out, err := awsx.IAM(a.cfg).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if awsx.IsDenied(err) {
		return nil, fmt.Errorf("iam list-access-keys %s: %w: %w", user, rotate.ErrDenied, err)
	}
	if err != nil {
		return nil, fmt.Errorf("iam list-access-keys %s: %w", user, err)
	}
	keys := make([]rotate.AccessKey, 0, len(out.AccessKeyMetadata))
	for _, m := range out.AccessKeyMetadata {
		keys = append(keys, rotate.AccessKey{ID: aws.ToString(m.AccessKeyId),
			Active: m.Status == iamtypes.StatusTypeActive, Created: aws.ToTime(m.CreateDate)})
	}
	slices.SortFunc(keys, func(x, y rotate.AccessKey) int { return x.Created.Compare(y.Created) })
	return keys, nil
}

// LastUsed is when, by which service and in which region keyID was last
// used; zero when never. A key IAM does not know wraps rotate.ErrNoSuchKey.
func (a *IAM) LastUsed(ctx context.Context, keyID string) (rotate.KeyUse, error) {
	out, err := awsx.IAM(a.cfg).GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if awsx.IsNoSuchEntity(err) {
		return rotate.KeyUse{}, fmt.Errorf("iam get-access-key-last-used %s: %w", keyID, rotate.ErrNoSuchKey)
	}
	if err != nil {
		return rotate.KeyUse{}, fmt.Errorf("iam get-access-key-last-used %s: %w", keyID, err)
	}
	u := out.AccessKeyLastUsed
	if u == nil || u.LastUsedDate == nil {
		return rotate.KeyUse{}, nil
	}
	return rotate.KeyUse{At: aws.ToTime(u.LastUsedDate), Service: aws.ToString(u.ServiceName), Region: aws.ToString(u.Region)}, nil
}

// CreateKey creates an access key for user. The secret is in the returned
// key only: AWS never shows it again, so the caller must keep it at once.
func (a *IAM) CreateKey(ctx context.Context, user string) (credential.Key, time.Time, error) {
	out, err := awsx.IAM(a.cfg).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return credential.Key{}, time.Time{}, fmt.Errorf("iam create-access-key %s: %w", user, err)
	}
	k := out.AccessKey
	return credential.Key{ID: aws.ToString(k.AccessKeyId), Secret: secret.New(aws.ToString(k.SecretAccessKey))},
		aws.ToTime(k.CreateDate), nil
}

// SetActive activates or deactivates user's key.
func (a *IAM) SetActive(ctx context.Context, user, keyID string, active bool) error {
	status := iamtypes.StatusTypeInactive
	if active {
		status = iamtypes.StatusTypeActive
	}
	_, err := awsx.IAM(a.cfg).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(user), AccessKeyId: aws.String(keyID), Status: status})
	if err != nil {
		return fmt.Errorf("iam update-access-key %s %s: %w", keyID, status, err)
	}
	return nil
}

// DeleteKey deletes user's key. A key already gone is not an error: the
// delete is retried after crashes.
func (a *IAM) DeleteKey(ctx context.Context, user, keyID string) error {
	_, err := awsx.IAM(a.cfg).DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(keyID)})
	if err != nil && !awsx.IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-access-key %s: %w", keyID, err)
	}
	return nil
}

// Verify asks STS whether key works, as the key itself.
func (a *IAM) Verify(ctx context.Context, key credential.Key) credential.Result {
	return awsx.NewKeyChecker(a.cfg).CheckKey(ctx, key)
}
