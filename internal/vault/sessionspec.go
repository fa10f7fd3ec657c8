package vault

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
)

// RoleStep is one AssumeRole of a role profile chain, in order from the
// source outward.
type RoleStep struct {
	Profile     string // the profile that names the role
	RoleARN     string
	ExternalID  string
	SessionName string        // role_session_name; empty: "keywarden-<unix time>" when minted
	Duration    time.Duration // duration_seconds; 0: 1h
}

// SessionSpec says how to mint a profile's session (vaultaws.MintSession
// mints it).
type SessionSpec struct {
	Profile string
	// Source is the profile at the root of the chain, whose long-term key
	// Base is: the profile itself when it names no role.
	Source    string
	Base      credential.Key // the long-term key at the root of the chain
	MFASerial string         // the nearest mfa_serial from Profile outward along the chain
	// Duration is GetSessionToken's: duration_seconds of a profile without
	// a role; 0: 1h. STS accepts 15m to 36h for an IAM user.
	Duration time.Duration
	Roles    []RoleStep
	Region   string // the profile's region, for the command's environment
}

// ErrUnsupportedProfile is wrapped when a profile gets its credentials in a
// way keywarden cannot mint sessions for (credential_source, web identity,
// sso, a console login).
var ErrUnsupportedProfile = errors.New("profile's credential type is not supported")

// STS limits, from the GetSessionToken and AssumeRole API references.
const (
	minSessionDuration = 15 * time.Minute
	maxSessionToken    = 36 * time.Hour // GetSessionToken, IAM users
	maxAssumeRole      = 12 * time.Hour // a role's highest MaxSessionDuration
	maxRoleChaining    = time.Hour      // AssumeRole signed with temporary credentials
	defaultDuration    = time.Hour
)

// credsOverride are the keys the SDK takes from the credentials file over
// the config file when a profile is in both (awsfile's merge rules).
var credsOverride = map[string]bool{
	"role_arn": true, "source_profile": true, "credential_source": true, "external_id": true,
	"mfa_serial": true, "role_session_name": true, "region": true,
}

// profileValue reads key of profile as the SDK merges the two files.
func profileValue(creds, config *awsfile.File, profile, key string) string {
	inCfg := config != nil && config.HasProfile(profile)
	inCreds := creds != nil && creds.HasProfile(profile)
	if inCreds && (!inCfg || credsOverride[key]) {
		if v, ok := creds.Get(profile, key); ok || !inCfg {
			return v
		}
	}
	if inCfg {
		v, _ := config.Get(profile, key)
		return v
	}
	return ""
}

// SessionSpecFor builds the spec of profile from the shared files (either
// may be nil), following source_profile like the AWS CLI does: each profile
// of the chain but the root names a role (role_arn, external_id,
// role_session_name, duration_seconds). base is the root's long-term key
// (from the vault or the credentials file); a zero base takes the root's key
// lines from the files. The root may already point at credential_process
// (an imported profile) when base is given.
func SessionSpecFor(creds, config *awsfile.File, profile string, base credential.Key) (SessionSpec, error) {
	p, err := awsfile.Resolve(creds, config, profile)
	root := profile
	if len(p.Chain) > 0 { // Resolve fills Chain but for a profile not found
		root = p.Chain[len(p.Chain)-1]
	}
	switch {
	case err != nil && !rootWithoutFileKey(err):
		return SessionSpec{}, fmt.Errorf("session for profile %q: %w", profile, unsupported(err))
	case err != nil && base.ID == "":
		return SessionSpec{}, fmt.Errorf("session for profile %q: no long-term key for source profile %q: %w", profile, root, err)
	}
	spec := SessionSpec{Profile: profile, Source: root, Base: base, Region: p.Region}
	if base.ID == "" {
		spec.Base = credential.Key{ID: p.AccessKeyID, Secret: p.SecretAccessKey}
	}
	if spec.Base.ID == "" || spec.Base.Secret.IsZero() {
		return SessionSpec{}, fmt.Errorf("session for profile %q: no long-term key for source profile %q: %w", profile, root, awsfile.ErrNoKey)
	}
	for _, name := range p.Chain {
		if spec.MFASerial == "" {
			spec.MFASerial = profileValue(creds, config, name, "mfa_serial")
		}
	}
	// Chain runs from profile to the root; roles are assumed the other way.
	for i := len(p.Chain) - 2; i >= 0; i-- {
		step, err := roleStepFor(creds, config, p.Chain[i])
		if err != nil {
			return SessionSpec{}, fmt.Errorf("session for profile %q: %w", profile, err)
		}
		spec.Roles = append(spec.Roles, step)
	}
	if len(spec.Roles) == 0 {
		d, err := durationOf(creds, config, profile)
		if err != nil {
			return SessionSpec{}, fmt.Errorf("session for profile %q: %w", profile, err)
		}
		spec.Duration = d
	}
	return spec, nil
}

// rootWithoutFileKey reports whether Resolve failed only because the
// chain's root keeps no usable long-term key in the files: the caller may
// have it (an imported profile's key is in the vault).
func rootWithoutFileKey(err error) bool {
	return errors.Is(err, awsfile.ErrNoKey) || errors.Is(err, awsfile.ErrCredentialProcess) ||
		errors.Is(err, awsfile.ErrSessionToken)
}

// unsupported marks the credential types keywarden does not mint for, so
// callers can tell them from a broken file.
func unsupported(err error) error {
	for _, e := range []error{awsfile.ErrCredentialSource, awsfile.ErrWebIdentity, awsfile.ErrSSO, awsfile.ErrLoginSession} {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", ErrUnsupportedProfile, err)
		}
	}
	return err
}

func roleStepFor(creds, config *awsfile.File, name string) (RoleStep, error) {
	d, err := durationOf(creds, config, name)
	if err != nil {
		return RoleStep{}, err
	}
	return RoleStep{
		Profile:     name,
		RoleARN:     profileValue(creds, config, name, "role_arn"),
		ExternalID:  profileValue(creds, config, name, "external_id"),
		SessionName: profileValue(creds, config, name, "role_session_name"),
		Duration:    d,
	}, nil
}

// durationOf reads duration_seconds, which the SDK takes from the config
// file only.
func durationOf(creds, config *awsfile.File, name string) (time.Duration, error) {
	s := strings.TrimSpace(profileValue(creds, config, name, "duration_seconds"))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("profile %q: duration_seconds %q is not a positive whole number of seconds", name, s)
	}
	return time.Duration(n) * time.Second, nil
}

// CacheKey identifies a spec for the session cache: profile, key id, roles,
// MFA serial and durations. It is a SHA-256 in hex, safe as a file name, so
// that even an external id is not written in clear; no secret goes in.
func (s SessionSpec) CacheKey() string {
	h := sha256.New()
	field := func(v string) { fmt.Fprintf(h, "%d:%s;", len(v), v) }
	field("keywarden-session-v1")
	field(s.Profile)
	field(s.Base.ID)
	field(s.MFASerial)
	field(strconv.FormatInt(int64(s.Duration/time.Second), 10))
	for _, r := range s.Roles {
		for _, v := range []string{r.Profile, r.RoleARN, r.ExternalID, r.SessionName,
			strconv.FormatInt(int64(r.Duration/time.Second), 10)} {
			field(v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Effective returns the spec with default durations filled in and clamped
// to what STS accepts, and one note per change for the user (stderr): STS
// would otherwise refuse the call. Every AssumeRole signed with temporary
// credentials (after a role, or after GetSessionToken with MFA) is role
// chaining, which AWS caps at 1h whatever the role allows.
func (s SessionSpec) Effective() (SessionSpec, []string) {
	var notes []string
	out := s
	out.Roles = append([]RoleStep(nil), s.Roles...)
	if len(s.Roles) == 0 || s.MFASerial != "" {
		out.Duration, notes = clampDuration(s.Duration, maxSessionToken, "profile "+s.Profile, "get-session-token", notes)
	}
	for i := range out.Roles {
		limit, why := maxAssumeRole, "assume-role"
		if i > 0 || s.MFASerial != "" {
			limit, why = maxRoleChaining, "role chaining"
		}
		r := &out.Roles[i]
		r.Duration, notes = clampDuration(r.Duration, limit, "profile "+r.Profile, why, notes)
	}
	return out, notes
}

func clampDuration(d, limit time.Duration, who, why string, notes []string) (time.Duration, []string) {
	switch {
	case d == 0:
		return min(defaultDuration, limit), notes
	case d < minSessionDuration:
		return minSessionDuration, append(notes, fmt.Sprintf("%s: duration %s is below the %s minimum of %s; using %s",
			who, d, why, minSessionDuration, minSessionDuration))
	case d > limit:
		return limit, append(notes, fmt.Sprintf("%s: duration %s is above the %s limit of %s; using %s",
			who, d, why, limit, limit))
	}
	return d.Truncate(time.Second), notes
}
