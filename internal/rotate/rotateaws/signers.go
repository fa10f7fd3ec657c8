package rotateaws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/vault"
	"github.com/keywarden/keywarden/internal/vault/vaultaws"
)

// Signers builds the identities rotations sign as from the configuration
// Load resolves (region, AWS_ENDPOINT_URL, retries): awsx.Load, or a test's.
type Signers struct {
	Load func(ctx context.Context, opts awsx.Options) (aws.Config, error)
}

var _ rotate.Signers = Signers{}

// mfaSessionLength is how long the MFA session of a rotation lasts: long
// enough for verification through IAM's propagation delay.
const mfaSessionLength = 15 * time.Minute

// Key signs as key alone.
func (s Signers) Key(ctx context.Context, key credential.Key, region string) (rotate.Signer, error) {
	cfg, err := s.Load(ctx, awsx.Options{Region: region})
	if err != nil {
		return nil, err
	}
	return New(withKey(cfg, key)), nil
}

// MFA signs as a session minted from key with the code of MFA device serial.
func (s Signers) MFA(ctx context.Context, key credential.Key, region, serial, code string) (rotate.Signer, error) {
	cfg, err := s.Load(ctx, awsx.Options{Region: region})
	if err != nil {
		return nil, err
	}
	session, _, err := vaultaws.SessionToken(ctx, cfg, key, serial, code, mfaSessionLength)
	if err != nil {
		return nil, fmt.Errorf("sts get-session-token with mfa %s: %w", serial, err)
	}
	return New(withKey(cfg, session)), nil
}

// Role signs as the role session spec describes (the profile's role_arn,
// assumed with its source profile's key, after one MFA code when it names
// an mfa_serial): vaultaws.MintSession, the one AssumeRole path.
func (s Signers) Role(ctx context.Context, spec vault.SessionSpec, region string, mfa func(serial string) (string, error)) (rotate.Signer, error) {
	cfg, err := s.Load(ctx, awsx.Options{Region: region})
	if err != nil {
		return nil, err
	}
	session, _, err := vaultaws.MintSession(ctx, cfg, spec, mfa)
	if err != nil {
		return nil, err
	}
	return New(withKey(cfg, session)), nil
}

// Profile signs with profile's credentials ("": the SDK's default chain).
func (s Signers) Profile(ctx context.Context, profile, region string) (rotate.Signer, error) {
	cfg, err := s.Load(ctx, awsx.Options{Profile: profile, Region: region})
	if err != nil {
		return nil, err
	}
	return New(cfg), nil
}
