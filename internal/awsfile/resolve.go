package awsfile

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/secret"
)

// Reasons Resolve gives for a profile whose key cannot be rotated; callers
// branch on them with errors.Is.
var (
	ErrProfileNotFound   = errors.New("profile not found")
	ErrNoKey             = errors.New("profile has no access key")
	ErrPartialKey        = errors.New("profile has only one of aws_access_key_id and aws_secret_access_key")
	ErrSessionToken      = errors.New("profile holds temporary credentials (aws_session_token)")
	ErrCredentialProcess = errors.New("profile gets credentials from credential_process")
	ErrSSO               = errors.New("profile uses iam identity center (sso)")
	ErrLoginSession      = errors.New("profile uses a console login session")
	ErrWebIdentity       = errors.New("profile uses web_identity_token_file")
	ErrCredentialSource  = errors.New("profile uses credential_source")
	ErrSourceCycle       = errors.New("source_profile chain loops")
	ErrInvalidProfile    = errors.New("profile is rejected by the aws sdk")
	ErrDamagedKey        = errors.New("its key holds control characters (NUL bytes of a damaged file?), " +
		"which no request can be signed with: fix the file by hand")
)

// Profile is what rotate needs to know about a profile.
type Profile struct {
	Name string
	// SourceProfile is the end of the source_profile chain whose static
	// key Name uses to assume RoleARN; empty when Name holds the key.
	SourceProfile string
	Chain         []string // Name, then each source_profile followed
	// KeyFile is the file that provides the key the SDK uses (the
	// credentials file wins over the config file).
	KeyFile         Kind
	AccessKeyID     string
	SecretAccessKey secret.Secret
	// Of the named profile itself, credentials file overriding config as
	// the SDK does.
	RoleARN, MFASerial, Region string
}

// KeyProfile is the profile whose key lines hold the key.
func (p Profile) KeyProfile() string {
	if p.SourceProfile != "" {
		return p.SourceProfile
	}
	return p.Name
}

// view is one profile as the SDK sees it after merging the two files.
type view struct {
	vals    map[string]string
	partial bool
	keyFile Kind
}

// mergedKeys are the keys the SDK takes from the credentials file when the
// profile is also in the config file (besides the key pair).
var mergedKeys = []string{
	"role_arn", "source_profile", "credential_source", "external_id", "mfa_serial",
	"role_session_name", "region", "credential_process", "web_identity_token_file",
	"sso_session", "sso_account_id", "sso_region", "sso_role_name", "sso_start_url",
	"login_session",
}

const (
	keyID  = "aws_access_key_id"
	keySec = "aws_secret_access_key"
	keyTok = "aws_session_token"
)

// lookup merges profile from both files the way the SDK's loader does: the
// config file first, then the credentials file's key pair (with its token)
// when it has both halves, and its values for mergedKeys.
func lookup(creds, config *File, profile string) (view, bool) {
	v := view{vals: map[string]string{}, keyFile: Config}
	cfgVals, inCfg := sectionValues(config, profile)
	credVals, inCreds := sectionValues(creds, profile)
	if !inCfg && !inCreds {
		return v, false
	}
	for k, s := range cfgVals {
		v.vals[k] = s
	}
	if !inCreds {
		v.partial = isPartial(cfgVals)
		return v, true
	}
	v.partial = isPartial(credVals)
	if !inCfg {
		v.vals, v.keyFile = credVals, Credentials
		return v, true
	}
	_, hasID := credVals[keyID]
	_, hasSec := credVals[keySec]
	if hasID && hasSec {
		v.vals[keyID], v.vals[keySec], v.keyFile = credVals[keyID], credVals[keySec], Credentials
		if t, ok := credVals[keyTok]; ok {
			v.vals[keyTok] = t
		}
	}
	for _, k := range mergedKeys {
		if s, ok := credVals[k]; ok {
			v.vals[k] = s
		}
	}
	return v, true
}

func sectionValues(f *File, profile string) (map[string]string, bool) {
	if f == nil {
		return nil, false
	}
	sec, ok := f.sectionFor(profile)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	for k, e := range f.values[sec] {
		out[k] = e.str
	}
	return out, true
}

func isPartial(vals map[string]string) bool {
	_, id := vals[keyID]
	_, sec := vals[keySec]
	return id != sec
}

func (v view) hasKeys() bool { return v.vals[keyID] != "" && v.vals[keySec] != "" }

// Resolve finds the static key the SDK would use for profile, following
// source_profile like the SDK. creds or config may be nil (file missing).
// When the key cannot be rotated the error wraps one of the Err* reasons,
// and the Profile returned still carries what was learnt (region, chain).
func Resolve(creds, config *File, profile string) (Profile, error) {
	p := Profile{Name: profile}
	top, ok := lookup(creds, config, profile)
	if !ok {
		return p, &notFoundError{what: fmt.Sprintf("profile %q", profile), files: []*File{creds, config}}
	}
	p.RoleARN, p.MFASerial, p.Region = top.vals["role_arn"], top.vals["mfa_serial"], top.vals["region"]
	name, v := profile, top
	p.Chain = []string{profile}
	for {
		if v.partial {
			return p, fmt.Errorf("resolve profile %q: %w", name, ErrPartialKey)
		}
		if err := requireRoleARN(v); err != nil {
			return p, fmt.Errorf("resolve profile %q: %w", name, err)
		}
		// A source profile's own key pair ends the chain, as in the SDK.
		if len(p.Chain) > 1 && v.hasKeys() {
			break
		}
		if err := oneCredentialType(v); err != nil {
			return p, fmt.Errorf("resolve profile %q: %w", name, err)
		}
		src := v.vals["source_profile"]
		if src == "" {
			break
		}
		next, ok := lookup(creds, config, src)
		if !ok {
			return p, &notFoundError{what: fmt.Sprintf("profile %q: its source_profile %q", name, src), files: []*File{creds, config}}
		}
		revisit := slices.Contains(p.Chain, src)
		// The SDK reads a profile met again (a profile naming itself as
		// its source, say) for its keys only.
		if revisit && (next.partial || !next.hasKeys()) {
			return p, fmt.Errorf("resolve profile %q: %w", profile, ErrSourceCycle)
		}
		name, v = src, next
		p.Chain = append(p.Chain, src)
		if src != profile {
			p.SourceProfile = src
		} else {
			p.SourceProfile = ""
		}
		if revisit {
			break
		}
	}
	if err := staticReason(v); err != nil {
		return p, fmt.Errorf("resolve profile %q: %w", name, err)
	}
	if hasControl(v.vals[keyID]) || hasControl(v.vals[keySec]) {
		file := config
		if v.keyFile == Credentials {
			file = creds
		}
		return p, fmt.Errorf("resolve profile %q in %s: %w", name, english.HomePath(file.path), ErrDamagedKey)
	}
	p.KeyFile, p.AccessKeyID = v.keyFile, v.vals[keyID]
	p.SecretAccessKey = secret.New(v.vals[keySec])
	return p, nil
}

// notFoundError is a profile the shared files lack, said with where they
// are; it is ErrProfileNotFound.
type notFoundError struct {
	what  string // `profile "p"`
	files []*File
}

func (e *notFoundError) Error() string {
	var paths []string
	for _, f := range e.files {
		if f != nil && f.path != "" {
			path := english.HomePath(f.path)
			if bytes.IndexByte(f.Bytes(), 0) >= 0 {
				path += " (which holds NUL bytes: a damaged file?)"
			}
			paths = append(paths, path)
		}
	}
	if len(paths) == 0 {
		return e.what + " is not in the shared files"
	}
	return e.what + " is not in " + strings.Join(paths, " or ")
}

func (e *notFoundError) Is(target error) bool { return target == ErrProfileNotFound }

// hasControl reports whether s holds a control character, which no
// HTTP header (so no signature) may carry.
func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// requireRoleARN and oneCredentialType mirror the SDK's checks that reject
// a profile outright.
func requireRoleARN(v view) error {
	for _, k := range []string{"source_profile", "credential_source", "web_identity_token_file"} {
		if v.vals[k] != "" && v.vals["role_arn"] == "" {
			return fmt.Errorf("%w: %s without role_arn", ErrInvalidProfile, k)
		}
	}
	return nil
}

func oneCredentialType(v view) error {
	n := 0
	for _, k := range []string{"source_profile", "credential_source", "credential_process", "web_identity_token_file"} {
		if v.vals[k] != "" {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%w: more than one credential type", ErrInvalidProfile)
	}
	return nil
}

// staticReason follows the SDK's order of credential providers for a
// profile without source_profile: a static key pair wins over the others.
func staticReason(v view) error {
	switch {
	case v.hasKeys() && v.vals[keyTok] != "":
		return ErrSessionToken
	case v.hasKeys():
		return nil
	case v.vals["credential_source"] != "":
		return ErrCredentialSource
	case v.vals["web_identity_token_file"] != "":
		return ErrWebIdentity
	case v.vals["sso_session"] != "" || v.vals["sso_start_url"] != "" || v.vals["sso_region"] != "" ||
		v.vals["sso_account_id"] != "" || v.vals["sso_role_name"] != "":
		return ErrSSO
	case v.vals["login_session"] != "":
		return ErrLoginSession
	case v.vals["credential_process"] != "":
		return ErrCredentialProcess
	}
	return ErrNoKey
}
