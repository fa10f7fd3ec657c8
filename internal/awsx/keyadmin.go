package awsx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

// KeyAdmin makes incident response's IAM calls (rotation's are
// rotateaws.IAM's). It signs with the credentials of the aws.Config it was
// built from.
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

func (a *KeyAdmin) iam() *iam.Client { return IAM(a.cfg) }

func (a *KeyAdmin) sts() *sts.Client { return STS(a.cfg) }

// Caller asks STS who signs.
func (a *KeyAdmin) Caller(ctx context.Context) (Identity, error) { return CallerIdentity(ctx, a.cfg) }

// ErrNoSuchKey is wrapped when IAM says an access key does not exist.
var ErrNoSuchKey = errors.New("no such access key")

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
