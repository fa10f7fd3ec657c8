package rotate

import (
	"errors"
	"fmt"
	"io"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/vault"
)

// Profiles finds the long-term keys AWS profiles use: in the shared files,
// or, for a profile imported with 'creds import', in keywarden's store.
type Profiles struct {
	Files func() (Files, error)        // where the shared files are: SharedFiles
	Vault func() (*vault.Store, error) // keywarden's store; nil: none
	Notes io.Writer                    // says whose key a source_profile rotates
}

// SharedFiles are the shared files the SDK reads ($AWS_SHARED_CREDENTIALS_FILE
// and $AWS_CONFIG_FILE, else ~/.aws/credentials and ~/.aws/config).
func SharedFiles() (Files, error) {
	creds, err := awsfile.CredentialsPath()
	if err != nil {
		return Files{}, err
	}
	config, err := awsfile.ConfigPath()
	if err != nil {
		return Files{}, err
	}
	return Files{Credentials: creds, Config: config}, nil
}

// ProfileKey is the long-term key a profile uses and the places that hold it.
type ProfileKey struct {
	awsfile.Profile
	Files   Files    // the shared files; zero for a key in the store
	Targets []string // every profile holding the key: SharedFileSpec or VaultSpec
	// Role is how to sign as the profile's role_arn (from its source's key,
	// with its mfa_serial), for a user that may not manage its own keys;
	// nil when the profile names no role.
	Role *vault.SessionSpec
}

// Key is the profile's long-term key.
func (k ProfileKey) Key() credential.Key {
	return credential.Key{ID: k.AccessKeyID, Secret: k.SecretAccessKey}
}

// Key finds the long-term key profile name uses. A profile that takes its
// key from source_profile rotates the source's.
func (p Profiles) Key(name string) (ProfileKey, error) {
	files, creds, config, err := p.load()
	if err != nil {
		return ProfileKey{}, err
	}
	prof, err := awsfile.Resolve(creds, config, name)
	if errors.Is(err, awsfile.ErrCredentialProcess) && len(prof.Chain) > 0 && p.Vault != nil {
		return p.storeKey(prof)
	}
	if err != nil {
		return ProfileKey{}, fmt.Errorf("%w: keywarden rotates long-term access keys held in the shared files or its store", err)
	}
	if prof.SourceProfile != "" {
		fmt.Fprintf(p.Notes, "profile %s gets its key from source_profile %s: rotating %s's key\n", name, prof.SourceProfile, prof.SourceProfile)
	}
	k := ProfileKey{Profile: prof, Files: files}
	if prof.RoleARN != "" {
		spec, err := vault.SessionSpecFor(creds, config, name, credential.Key{})
		if err != nil {
			return ProfileKey{}, err
		}
		k.Role = &spec
	}
	for _, f := range []*awsfile.File{creds, config} {
		if names := f.ProfilesWithKey(prof.AccessKeyID); len(names) > 0 {
			k.Targets = append(k.Targets, SharedFileSpec(f.Kind(), names))
		}
	}
	return k, nil
}

// storeKey is the key of a profile whose credential_process runs keywarden:
// the store holds it, and the store's profiles holding it are the target.
func (p Profiles) storeKey(prof awsfile.Profile) (ProfileKey, error) {
	root := prof.Chain[len(prof.Chain)-1]
	store, err := p.Vault()
	if err != nil {
		return ProfileKey{}, err
	}
	entry, err := store.Get(root)
	if err != nil {
		return ProfileKey{}, fmt.Errorf("profile %s uses a credential_process and is not in keywarden's store: %w", root, err)
	}
	listed, err := store.List()
	if err != nil {
		return ProfileKey{}, err
	}
	var holders []string
	for _, l := range listed {
		if l.AccessKeyID == entry.AccessKeyID {
			holders = append(holders, l.Profile)
		}
	}
	prof.SourceProfile, prof.AccessKeyID, prof.SecretAccessKey = "", entry.AccessKeyID, entry.SecretAccessKey
	if root != prof.Name {
		prof.SourceProfile = root
	}
	return ProfileKey{Profile: prof, Targets: []string{VaultSpec(holders)}}, nil
}

// WithKeys lists the profiles of the credentials file that hold a long-term
// key of their own, one per key, whatever else shares it (--all-profiles).
func (p Profiles) WithKeys() ([]string, error) {
	_, creds, config, err := p.load()
	if err != nil {
		return nil, err
	}
	var names []string
	seen := map[string]bool{}
	for _, name := range creds.Profiles() {
		prof, err := awsfile.Resolve(creds, config, name)
		if err != nil || prof.SourceProfile != "" || seen[prof.AccessKeyID] {
			continue // not a long-term key of its own: nothing to rotate
		}
		seen[prof.AccessKeyID] = true
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, errors.New("--all-profiles: no profile of the credentials file holds a long-term access key")
	}
	return names, nil
}

func (p Profiles) load() (files Files, creds, config *awsfile.File, err error) {
	if files, err = p.Files(); err != nil {
		return files, nil, nil, err
	}
	if creds, _, err = awsfile.Load(files.Credentials, awsfile.Credentials); err != nil {
		return files, nil, nil, err
	}
	if config, _, err = awsfile.Load(files.Config, awsfile.Config); err != nil {
		return files, nil, nil, err
	}
	return files, creds, config, nil
}
