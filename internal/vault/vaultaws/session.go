// Package vaultaws mints the STS sessions vault's specs describe:
// GetSessionToken (with one MFA code when the profile names a serial), then
// the profile's AssumeRole chain, each call signed with the key or session
// before it.
package vaultaws

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/vault"
)

// ErrMFARequired is wrapped when a profile needs an MFA code and there is no
// way to ask for one.
var ErrMFARequired = errors.New("mfa code required")

// MintSession returns short-term credentials for spec and their expiration.
//
// Without roles it calls GetSessionToken, with SerialNumber and TokenCode
// when spec.MFASerial is set. With roles and MFA it asks for ONE code:
// GetSessionToken with MFA, then AssumeRole for each step signed with the
// session before it; the MFA context carries over to the roles (as aws-vault
// does), so a chain of roles costs one prompt. Without MFA the first role
// is assumed with the base key and each next one with the session before.
// Durations are clamped as vault.SessionSpec.Effective says.
//
// cfg gives region, endpoints, HTTP client and retries only: every call
// signs with spec.Base or a session minted here. mfa is called at most once,
// with the serial. Errors name the profile and the step, never a secret.
func MintSession(ctx context.Context, cfg aws.Config, spec vault.SessionSpec, mfa func(serial string) (string, error)) (credential.Key, time.Time, error) {
	if spec.Base.ID == "" || spec.Base.Secret.IsZero() {
		return credential.Key{}, time.Time{}, fmt.Errorf("mint session for profile %q: no long-term key for source profile %q", spec.Profile, spec.Source)
	}
	spec, _ = spec.Effective()
	m := minter{cfg: cfg, spec: spec}
	if m.cfg.Region == "" {
		m.cfg.Region = spec.Region // else awsx.WithKey's us-east-1
	}
	if spec.MFASerial == "" && len(spec.Roles) > 0 {
		return m.assumeChain(ctx, spec.Base, spec.Roles)
	}
	if !spec.Base.SessionToken.IsZero() {
		// STS refuses GetSessionToken signed with temporary credentials.
		return credential.Key{}, time.Time{}, fmt.Errorf("mint session for profile %q: source profile %q holds temporary credentials, not a long-term key", spec.Profile, spec.Source)
	}
	code, err := m.mfaCode(mfa)
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	key, exp, err := m.sessionToken(ctx, code)
	if err != nil || len(spec.Roles) == 0 {
		return key, exp, err
	}
	return m.assumeChain(ctx, key, spec.Roles)
}

// Minter mints sessions (vault.Sessions.Mint) with the SDK configuration
// Load resolves for each spec's profile: region, endpoints, HTTP client and
// retries, never its credentials.
type Minter struct {
	Load   func(context.Context, awsx.Options) (aws.Config, error)
	Region string // of the STS calls; "": the spec's
	// Token is the MFA code to send (--mfa-token); without one, Ask asks
	// for it (hidden), and with neither a profile needing MFA fails.
	Token string
	Ask   func(question string, hidden bool) (string, error)
}

// Mint mints spec's session (MintSession).
func (m Minter) Mint(ctx context.Context, spec vault.SessionSpec) (credential.Key, time.Time, error) {
	region := m.Region
	if region == "" {
		region = spec.Region
	}
	// The profile's own settings, never AWS_PROFILE's (which may name a
	// profile the files lack).
	cfg, err := m.Load(ctx, awsx.Options{Profile: spec.Profile, Region: region, SettingsOnly: true})
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	var mfa func(string) (string, error)
	switch {
	case m.Token != "":
		mfa = func(string) (string, error) { return m.Token, nil }
	case m.Ask != nil:
		mfa = func(serial string) (string, error) {
			code, err := m.Ask("MFA code for "+serial+": ", true)
			if err != nil {
				return "", fmt.Errorf("%w (give --mfa-token)", err)
			}
			return code, nil
		}
	}
	return MintSession(ctx, cfg, spec, mfa)
}

type minter struct {
	cfg  aws.Config // region, endpoints, HTTP client, retries; never its credentials
	spec vault.SessionSpec
}

// client signs with key only.
func client(cfg aws.Config, key credential.Key) *sts.Client { return awsx.STS(awsx.WithKey(cfg, key)) }

// mfaCode asks for the code when the spec needs one; "" when it does not.
func (m minter) mfaCode(mfa func(string) (string, error)) (string, error) {
	serial := m.spec.MFASerial
	if serial == "" {
		return "", nil
	}
	if mfa == nil {
		return "", fmt.Errorf("mint session for profile %q: %w for %s (pass --mfa-token or run on a terminal)", m.spec.Profile, ErrMFARequired, serial)
	}
	code, err := mfa(serial)
	if err != nil {
		return "", fmt.Errorf("mint session for profile %q: read mfa code for %s: %w", m.spec.Profile, serial, err)
	}
	code = strings.TrimSpace(code)
	if !validMFACode(code) {
		return "", fmt.Errorf("mint session for profile %q: mfa code for %s must be 6 digits", m.spec.Profile, serial)
	}
	return code, nil
}

func validMFACode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// sessionToken calls GetSessionToken with the base key, and the MFA code
// when there is one.
func (m minter) sessionToken(ctx context.Context, code string) (credential.Key, time.Time, error) {
	what, serial := "get session token", ""
	if code != "" {
		what, serial = "get session token with mfa "+m.spec.MFASerial, m.spec.MFASerial
	}
	key, exp, err := SessionToken(ctx, m.cfg, m.spec.Base, serial, code, m.spec.Duration)
	if err != nil {
		return credential.Key{}, time.Time{}, fmt.Errorf("%s for profile %q: %w", what, m.spec.Profile, err)
	}
	return key, exp, nil
}

// SessionToken calls GetSessionToken for d, signed with key alone, sending
// serial and code when serial is set: the one call that mints a session
// from a long-term key, for MintSession and for rotation's MFA session. cfg
// gives region, endpoints, HTTP client and retries only. Errors are STS's:
// the caller names what it was minting.
func SessionToken(ctx context.Context, cfg aws.Config, key credential.Key, serial, code string, d time.Duration) (credential.Key, time.Time, error) {
	in := &sts.GetSessionTokenInput{DurationSeconds: seconds(d)}
	if serial != "" {
		in.SerialNumber, in.TokenCode = aws.String(serial), aws.String(code)
	}
	out, err := client(cfg, key).GetSessionToken(ctx, in)
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	return credentialsOf(out.Credentials)
}

// assumeChain assumes each role in turn, signing each call with the
// session the one before returned (the first with key).
func (m minter) assumeChain(ctx context.Context, key credential.Key, roles []vault.RoleStep) (credential.Key, time.Time, error) {
	var exp time.Time
	for _, r := range roles {
		name := r.SessionName
		if name == "" {
			name = "keywarden-" + strconv.FormatInt(time.Now().Unix(), 10)
		}
		in := &sts.AssumeRoleInput{RoleArn: aws.String(r.RoleARN), RoleSessionName: aws.String(name),
			DurationSeconds: seconds(r.Duration)}
		if r.ExternalID != "" {
			in.ExternalId = aws.String(r.ExternalID)
		}
		what := "assume role " + r.RoleARN
		if r.Profile != m.spec.Profile {
			what += " (of profile " + strconv.Quote(r.Profile) + ")"
		}
		out, err := client(m.cfg, key).AssumeRole(ctx, in)
		if err == nil {
			key, exp, err = credentialsOf(out.Credentials)
		}
		if err != nil {
			return credential.Key{}, time.Time{}, fmt.Errorf("%s for profile %q: %w", what, m.spec.Profile, err)
		}
	}
	return key, exp, nil
}

var errIncomplete = errors.New("sts returned no complete credentials")

// credentialsOf turns STS's answer into a credential.Key and its expiration.
func credentialsOf(c *ststypes.Credentials) (credential.Key, time.Time, error) {
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil || c.Expiration == nil {
		return credential.Key{}, time.Time{}, errIncomplete
	}
	return credential.Key{ID: *c.AccessKeyId, Secret: secret.New(*c.SecretAccessKey), SessionToken: secret.New(*c.SessionToken)},
		*c.Expiration, nil
}

func seconds(d time.Duration) *int32 {
	return aws.Int32(int32(d / time.Second))
}
