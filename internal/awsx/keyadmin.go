package awsx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// KeyAdmin manages IAM users' access keys: the calls rotation and incident
// response make. It signs with the credentials of the aws.Config it was
// built from, or with a key given to WithKey.
type KeyAdmin struct {
	cfg aws.Config
}

// NewKeyAdmin uses cfg's credentials, region, endpoints and retry policy.
func NewKeyAdmin(cfg aws.Config) *KeyAdmin {
	cfg = cfg.Copy()
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM and STS answer from any region
	}
	cfg.ClientLogMode = 0 // request logging could echo signed headers
	return &KeyAdmin{cfg: cfg}
}

// WithKey returns a KeyAdmin that signs with key instead.
func (a *KeyAdmin) WithKey(key credential.Key) *KeyAdmin { return &KeyAdmin{cfg: WithKey(a.cfg, key)} }

func (a *KeyAdmin) iam() *iam.Client { return IAM(a.cfg) }

func (a *KeyAdmin) sts() *sts.Client { return STS(a.cfg) }

// Caller asks STS who signs.
func (a *KeyAdmin) Caller(ctx context.Context) (Identity, error) { return CallerIdentity(ctx, a.cfg) }

// AccessKey is one of a user's access keys as IAM lists it.
type AccessKey struct {
	ID      string
	Active  bool
	Created time.Time
}

// ListKeys lists user's access keys (at most two), oldest first.
func (a *KeyAdmin) ListKeys(ctx context.Context, user string) ([]AccessKey, error) {
	out, err := a.iam().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("iam list-access-keys %s: %w", user, err)
	}
	keys := make([]AccessKey, 0, len(out.AccessKeyMetadata))
	for _, m := range out.AccessKeyMetadata {
		keys = append(keys, AccessKey{ID: aws.ToString(m.AccessKeyId),
			Active: m.Status == iamtypes.StatusTypeActive, Created: aws.ToTime(m.CreateDate)})
	}
	slices.SortFunc(keys, func(x, y AccessKey) int { return x.Created.Compare(y.Created) })
	return keys, nil
}

// ErrNoSuchKey is wrapped when IAM says an access key does not exist.
var ErrNoSuchKey = errors.New("no such access key")

// LastUsed is when keyID was last used; zero when never.
func (a *KeyAdmin) LastUsed(ctx context.Context, keyID string) (time.Time, error) {
	out, err := a.iam().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if IsNoSuchEntity(err) {
		return time.Time{}, fmt.Errorf("iam get-access-key-last-used %s: %w", keyID, ErrNoSuchKey)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("iam get-access-key-last-used %s: %w", keyID, err)
	}
	if out.AccessKeyLastUsed == nil {
		return time.Time{}, nil
	}
	return aws.ToTime(out.AccessKeyLastUsed.LastUsedDate), nil
}

// CreateKey creates an access key for user. The secret is in the returned
// key only: AWS never shows it again, so the caller must keep it at once.
func (a *KeyAdmin) CreateKey(ctx context.Context, user string) (credential.Key, time.Time, error) {
	out, err := a.iam().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		return credential.Key{}, time.Time{}, fmt.Errorf("iam create-access-key %s: %w", user, err)
	}
	k := out.AccessKey
	return credential.Key{ID: aws.ToString(k.AccessKeyId), Secret: secret.New(aws.ToString(k.SecretAccessKey))},
		aws.ToTime(k.CreateDate), nil
}

// SetActive activates or deactivates user's key.
func (a *KeyAdmin) SetActive(ctx context.Context, user, keyID string, active bool) error {
	status := iamtypes.StatusTypeInactive
	if active {
		status = iamtypes.StatusTypeActive
	}
	_, err := a.iam().UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String(user), AccessKeyId: aws.String(keyID), Status: status})
	if err != nil {
		return fmt.Errorf("iam update-access-key %s %s: %w", keyID, status, err)
	}
	return nil
}

// DeleteKey deletes user's key. A key already gone is not an error: the
// delete is retried after crashes.
func (a *KeyAdmin) DeleteKey(ctx context.Context, user, keyID string) error {
	_, err := a.iam().DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(keyID)})
	if err != nil && !IsNoSuchEntity(err) {
		return fmt.Errorf("iam delete-access-key %s: %w", keyID, err)
	}
	return nil
}

// Verify asks STS whether key works, as the key itself.
func (a *KeyAdmin) Verify(ctx context.Context, key credential.Key) credential.Result {
	return NewKeyChecker(a.cfg).CheckKey(ctx, key)
}

// MFASession mints a session with GetSessionToken and an MFA code, for IAM
// calls a policy allows only with MFA.
func (a *KeyAdmin) MFASession(ctx context.Context, serial, code string, d time.Duration) (credential.Key, error) {
	out, err := a.sts().GetSessionToken(ctx, &sts.GetSessionTokenInput{
		SerialNumber: aws.String(serial), TokenCode: aws.String(code), DurationSeconds: aws.Int32(int32(d / time.Second))})
	if err != nil {
		return credential.Key{}, fmt.Errorf("sts get-session-token with mfa %s: %w", serial, err)
	}
	c := out.Credentials
	return credential.Key{ID: aws.ToString(c.AccessKeyId), Secret: secret.New(aws.ToString(c.SecretAccessKey)),
		SessionToken: secret.New(aws.ToString(c.SessionToken))}, nil
}
