package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
)

// Export undoes an import: profile's key goes back into the shared file
// holding its credential_process line (the credentials file when neither
// does), in that line's place, and leaves the store unless keepStore. It
// returns the key's entry and the file written. A stored key not shaped like
// one (from an older keywarden, say) is refused, and nothing is written.
func Export(ctx context.Context, store *Store, files awsfile.Shared, profile string, keepStore bool) (Entry, string, error) {
	entry, err := store.Get(profile)
	switch {
	case errors.Is(err, ErrNotFound):
		return Entry{}, "", fmt.Errorf("export: %w", err) // it names the profile
	case err != nil:
		return Entry{}, "", fmt.Errorf("export %s: %w", profile, err)
	}
	if err := credential.CheckShape(entry.AccessKeyID, entry.SecretAccessKey); err != nil {
		return Entry{}, "", fmt.Errorf("export %s: the store holds no usable key, nothing written: %w", profile, err)
	}
	creds, config, err := files.Load()
	if err != nil {
		return Entry{}, "", err
	}
	kind := awsfile.Credentials
	if _, ok := creds.Get(profile, "credential_process"); !ok {
		if _, ok := config.Get(profile, "credential_process"); ok {
			kind = awsfile.Config
		}
	}
	err = files.Edit(ctx, kind, func(f *awsfile.File) error {
		if err := f.SetBefore(profile, "aws_access_key_id", entry.AccessKeyID, "credential_process"); err != nil {
			return err
		}
		if err := f.SetBefore(profile, "aws_secret_access_key", entry.SecretAccessKey.Reveal(), "credential_process"); err != nil {
			return fmt.Errorf("write the secret of profile %s", profile) // never wrap: it could quote the value
		}
		return f.Delete(profile, "credential_process")
	})
	if err != nil {
		return Entry{}, "", fmt.Errorf("export %s: %w", profile, err)
	}
	if !keepStore {
		if err := store.Remove(profile); err != nil {
			return Entry{}, "", err
		}
	}
	return entry, files.Path(kind), nil
}
