package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
)

// ImportRequest names the profiles to import.
type ImportRequest struct {
	Profiles []string // none: AWSProfile, else "default"
	// All takes every profile of the credentials file that holds a
	// long-term key of its own, silently passing over the others.
	All        bool
	AWSProfile string // $AWS_PROFILE
}

// ProfileKey is one profile to import: its key and the file holding it.
type ProfileKey struct {
	Profile string
	Key     credential.Key
	Kind    awsfile.Kind
	Path    string
}

// ImportPlan is what an import would move, and why the profiles asked for
// but left out are (one line each).
type ImportPlan struct {
	Keys    []ProfileKey
	Skipped []string
}

// PlanImport chooses the profiles to import from the shared files: a
// profile named explicitly that already uses credential_process or takes
// its key from a source_profile is skipped with a line saying so; one that
// holds no key, or one not shaped like an AWS key (credential.CheckShape),
// is an error, returned with the lines of the profiles skipped before it
// (with All, a malformed key is skipped with a line).
func PlanImport(creds, config *awsfile.File, files awsfile.Shared, req ImportRequest) (ImportPlan, error) {
	names := req.Profiles
	switch {
	case req.All:
		names = creds.Profiles()
	case len(names) == 0 && req.AWSProfile != "":
		names = []string{req.AWSProfile}
	case len(names) == 0:
		names = []string{"default"}
	}
	var plan ImportPlan
	for _, name := range names {
		p, err := awsfile.Resolve(creds, config, name)
		switch {
		case errors.Is(err, awsfile.ErrCredentialProcess) && !req.All:
			plan.Skipped = append(plan.Skipped, fmt.Sprintf("profile %s already uses credential_process: skipped", name))
			continue
		case errors.Is(err, awsfile.ErrDamagedKey) && req.All:
			plan.Skipped = append(plan.Skipped, err.Error()+": skipped")
			continue
		case err != nil && req.All:
			continue // --all takes what holds a key
		case err != nil:
			return ImportPlan{Skipped: plan.Skipped}, err
		case p.SourceProfile != "":
			plan.Skipped = append(plan.Skipped, fmt.Sprintf("profile %s takes its key from source_profile %s: import %s instead", name, p.SourceProfile, p.SourceProfile))
			continue
		}
		key := credential.Key{ID: p.AccessKeyID, Secret: p.SecretAccessKey}
		path := files.Path(p.KeyFile)
		if err := credential.CheckShape(key.ID, key.Secret); err != nil {
			err = fmt.Errorf("profile %s in %s: %w", name, path, err)
			if req.All {
				plan.Skipped = append(plan.Skipped, err.Error()+": skipped")
				continue
			}
			return ImportPlan{Skipped: plan.Skipped}, err
		}
		plan.Keys = append(plan.Keys, ProfileKey{Profile: name, Key: key, Kind: p.KeyFile, Path: path})
	}
	return plan, nil
}

// ErrDeclined is returned when the import was not agreed to.
var ErrDeclined = errors.New("import declined: nothing changed")

// Importer moves profiles' long-term keys into the store and points the
// profiles at keywarden's credential_process, saying on Out what it moves
// and on Err what it skips and what still holds a key in plaintext.
type Importer struct {
	Files awsfile.Shared
	// Confirm asks whether to go ahead, once the plan is shown.
	Confirm func(question string) bool
	// Open opens the store once the import is agreed (it may ask for the
	// passphrase); Command is how the credential_process lines run
	// keywarden's creds command (ProcessCommand).
	Open    func() (*Store, error)
	Command func() (string, error)
	// KeepPlaintext leaves the key lines in the file; NoSession makes the
	// profiles' credential_process serve the long-term key.
	KeepPlaintext, NoSession bool
	Now                      func() time.Time
	Out, Err                 io.Writer

	writable func(path string) error // checkWritable; tests replace it (as root every file is writable)
}

// Run imports the profiles req names (PlanImport), once Confirm agrees.
// Every precondition is checked before the first change: the keys' shape
// (PlanImport), every file to rewrite writable, then the store readable
// with its passphrase. A failure after the first change puts back what the
// import changed: the files byte for byte, the store's entries.
func (im Importer) Run(ctx context.Context, req ImportRequest) error {
	creds, config, err := im.Files.Load()
	if err != nil {
		return err
	}
	plan, err := PlanImport(creds, config, im.Files, req)
	for _, s := range plan.Skipped {
		fmt.Fprintln(im.Err, s)
	}
	if err != nil {
		return err
	}
	if len(plan.Keys) == 0 {
		fmt.Fprintln(im.Out, "nothing to import")
		return nil
	}
	if err := im.checkFiles(plan); err != nil {
		return err
	}
	for _, k := range plan.Keys {
		fmt.Fprintf(im.Out, "will import profile %s (%s) from %s\n", k.Profile, k.Key.ID, k.Path)
	}
	if !im.Confirm(fmt.Sprintf("move %d key(s) into the encrypted store and remove them from the file?", len(plan.Keys))) {
		return ErrDeclined
	}
	store, err := im.Open()
	if err != nil {
		return err
	}
	command, err := im.Command()
	if err != nil {
		return err
	}
	if _, err := store.List(); err != nil { // the passphrase, a store that reads back
		return fmt.Errorf("%w (checked before any change: nothing was changed)", err)
	}
	var undo importUndo
	if err := im.importAll(ctx, store, command, plan, &undo); err != nil {
		if uerr := undo.run(store); uerr != nil {
			return fmt.Errorf("%w; putting back failed too: %v", err, uerr)
		}
		return fmt.Errorf("%w; every change of this import was put back", err)
	}
	for _, k := range plan.Keys {
		fmt.Fprintf(im.Out, "imported %s (%s) into %s\n", k.Profile, k.Key.ID, store.Path())
	}
	if creds, _, err := im.Files.Load(); err == nil {
		for _, c := range plaintextCopies(creds, plan.Keys) {
			fmt.Fprintf(im.Err, "warning: profile %s still holds key %s in plaintext: import it too (keywarden creds import --profile %s)\n",
				c.Profile, c.KeyID, c.Profile)
		}
	}
	return nil
}

// checkFiles checks that this user can rewrite every file the plan edits.
func (im Importer) checkFiles(plan ImportPlan) error {
	writable := im.writable
	if writable == nil {
		writable = checkWritable
	}
	for _, k := range plan.Keys {
		if err := writable(k.Path); err != nil {
			return fmt.Errorf("profile %s: %w (checked before any change: nothing was changed)", k.Profile, err)
		}
	}
	return nil
}

// importAll stores every key and reads each back, then edits the files:
// the plaintext goes only once the store is known to hold every key. Each
// change is recorded in undo before it is made.
func (im Importer) importAll(ctx context.Context, store *Store, command string, plan ImportPlan, undo *importUndo) error {
	for _, k := range plan.Keys {
		if err := im.storeKey(store, k, undo); err != nil {
			return fmt.Errorf("import profile %s: %w", k.Profile, err)
		}
	}
	for _, k := range plan.Keys {
		if err := undo.keepFile(k.Path); err != nil {
			return fmt.Errorf("import profile %s: %w", k.Profile, err)
		}
		if err := im.editFile(ctx, command, k); err != nil {
			return fmt.Errorf("import profile %s: %w", k.Profile, err)
		}
	}
	return nil
}

// storeKey puts k in the store and reads it back.
func (im Importer) storeKey(store *Store, k ProfileKey, undo *importUndo) error {
	entry := Entry{AccessKeyID: k.Key.ID, SecretAccessKey: k.Key.Secret, ImportedFrom: k.Path, ImportedAt: im.Now().UTC()}
	if err := undo.keepEntry(store, k.Profile); err != nil {
		return err
	}
	if err := store.Put(k.Profile, entry); err != nil {
		return err
	}
	back, err := store.Get(k.Profile)
	if err != nil || back.AccessKeyID != entry.AccessKeyID || back.SecretAccessKey.Reveal() != entry.SecretAccessKey.Reveal() {
		return fmt.Errorf("the store did not give the key back (%v)", err)
	}
	return nil
}

// editFile points k's profile at credential_process: the line takes the
// place of the first key line, and the key lines go (unless KeepPlaintext).
func (im Importer) editFile(ctx context.Context, command string, k ProfileKey) error {
	line := processLine(command, k.Profile, im.NoSession)
	return im.Files.Edit(ctx, k.Kind, func(f *awsfile.File) error {
		if err := f.SetBefore(k.Profile, "credential_process", line, "aws_access_key_id", "aws_secret_access_key"); err != nil {
			return err
		}
		if im.KeepPlaintext {
			return nil
		}
		for _, key := range []string{"aws_access_key_id", "aws_secret_access_key"} {
			if err := f.Delete(k.Profile, key); err != nil {
				return err
			}
		}
		return nil
	})
}

// plaintextCopy is a profile of the credentials file still holding an
// imported key in plaintext: the key is only as safe as its least protected
// copy.
type plaintextCopy struct {
	Profile, KeyID string
}

// plaintextCopies lists the profiles of creds that hold one of the keys.
func plaintextCopies(creds *awsfile.File, keys []ProfileKey) []plaintextCopy {
	var out []plaintextCopy
	for _, k := range keys {
		for _, p := range creds.ProfilesWithKey(k.Key.ID) {
			out = append(out, plaintextCopy{Profile: p, KeyID: k.Key.ID})
		}
	}
	return out
}
