package scrub

import (
	"path/filepath"
	"strings"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/secret"
)

// sharedKind says whether a file is an AWS shared file, and which one.
type sharedKind int

const (
	notShared sharedKind = iota
	sharedCredentials
	sharedConfig
)

// kindOf tells AWS shared files by name: ~/.aws/credentials and
// ~/.aws/config, their backups beside them (credentials.bak, config.old),
// and a file named exactly "credentials" elsewhere (a copy kept for
// AWS_SHARED_CREDENTIALS_FILE). Other files have no profiles.
func kindOf(p string) sharedKind {
	base, parent := filepath.Base(p), filepath.Base(filepath.Dir(p))
	switch {
	case strings.HasSuffix(base, ".csv") || strings.HasSuffix(base, ".json"):
		return notShared
	case base == "credentials", parent == ".aws" && strings.HasPrefix(base, "credentials"):
		return sharedCredentials
	case parent == ".aws" && strings.HasPrefix(base, "config"):
		return sharedConfig
	}
	return notShared
}

// profileKey is what a profile of a shared file holds, as the SDK reads it.
type profileKey struct {
	name      string
	keyID     string
	secretSum string // SHA-256 of the secret, compared with a finding's SecretSHA256
}

// sharedProfiles reads the profiles of a shared file with internal/awsfile,
// which follows the SDK's reading rule for rule (last definition wins,
// [profile x] in config, [x] in credentials, ...). A file the SDK cannot read
// has no profiles: its keys are still reported, just not attributed.
func sharedProfiles(path string, k sharedKind) []profileKey {
	kind := awsfile.Credentials
	if k == sharedConfig {
		kind = awsfile.Config
	}
	f, _, err := awsfile.Load(path, kind)
	if err != nil {
		return nil
	}
	var out []profileKey
	for _, name := range f.Profiles() {
		id, _ := f.Get(name, "aws_access_key_id")
		s, _ := f.Get(name, "aws_secret_access_key")
		if id == "" && s == "" {
			continue
		}
		out = append(out, profileKey{name: name, keyID: id, secretSum: secret.New(s).SHA256()})
	}
	return out
}

// profilesOf lists the profiles whose key is the finding's: the same id and
// the same secret, for each half the finding has. A pair the detector joined
// across two profiles, or a stale duplicate line the SDK does not read,
// matches none.
func profilesOf(ps []profileKey, f scan.Finding) []string {
	if f.KeyID == "" && f.SecretSHA256 == "" {
		return nil
	}
	var out []string
	for _, p := range ps {
		if (f.KeyID == "" || f.KeyID == p.keyID) && (f.SecretSHA256 == "" || f.SecretSHA256 == p.secretSum) {
			out = append(out, p.name)
		}
	}
	return out
}
