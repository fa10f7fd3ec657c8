package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/vault"
)

func newCredsImportCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var profiles []string
	var all, keep, noSession bool
	cmd := &cobra.Command{
		Use:   "import [--profile P]... | --all",
		Short: "Move profiles' long-term keys into the store and point them at 'keywarden creds process'",
		Long: `Move each profile's long-term key into the encrypted store, then replace its
aws_access_key_id and aws_secret_access_key lines with
  credential_process = /path/to/keywarden creds process PROFILE
Every other byte of the file is unchanged, and the key is read back from the store before the
plaintext lines are removed. --keep-plaintext keeps them (the SDK then still prefers them).

The profile then gets short-term credentials (sts get-session-token, cached encrypted until
shortly before they expire). Credentials from GetSessionToken cannot call IAM without MFA:
give the profile an mfa_serial, or import it with --no-session to serve the long-term key.

Without a terminal to confirm on, pass --yes.

Exit status: 0 imported (or nothing to import), 2 usage or runtime error, or the import
declined (nothing changed).`,
		Example: "  keywarden creds import                 # the default profile\n  keywarden creds import --all --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all && len(profiles) > 0 {
				return usageErr(errors.New("--profile and --all exclude each other"))
			}
			return runCredsImport(cmd.Context(), deps, opts, importRequest{profiles: profiles, all: all, keep: keep, noSession: noSession})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&profiles, "profile", nil, "profile to import (repeatable; default AWS_PROFILE, else default)")
	f.BoolVar(&all, "all", false, "import every profile of the credentials file that holds a long-term key")
	f.BoolVar(&keep, "keep-plaintext", false, "keep the plaintext key lines in the file")
	f.BoolVar(&noSession, "no-session", false, "serve the long-term key itself, not a GetSessionToken session (for IAM calls without MFA)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

type importRequest struct {
	profiles             []string
	all, keep, noSession bool
}

// importPlan is one profile to import: its key and the file holding it.
type importPlan struct {
	profile string
	key     awsfile.Profile
	path    string
	kind    awsfile.Kind
}

func runCredsImport(ctx context.Context, deps Deps, opts *credsOptions, req importRequest) error {
	plans, err := planImports(deps, req)
	if err != nil {
		return err
	}
	if len(plans) == 0 {
		fmt.Fprintln(deps.Stdout, "nothing to import")
		return nil
	}
	for _, p := range plans {
		fmt.Fprintf(deps.Stdout, "will import profile %s (%s) from %s\n", p.profile, p.key.AccessKeyID, p.path)
	}
	if !deps.confirm(opts.yes, fmt.Sprintf("move %d key(s) into the encrypted store and remove them from the file?", len(plans))) {
		return errors.New("import declined: nothing changed")
	}
	store, err := openVault(opts)
	if err != nil {
		return err
	}
	process, err := selfCommand(deps, opts)
	if err != nil {
		return err
	}
	for _, p := range plans {
		if err := importOne(ctx, store, p, process, req); err != nil {
			return fmt.Errorf("import profile %s: %w", p.profile, err)
		}
		fmt.Fprintf(deps.Stdout, "imported %s (%s) into %s\n", p.profile, p.key.AccessKeyID, store.Path())
	}
	warnPlaintextCopies(deps, plans)
	return nil
}

// warnPlaintextCopies names profiles that still hold an imported key in
// plaintext: the key is only as safe as its least protected copy.
func warnPlaintextCopies(deps Deps, plans []importPlan) {
	creds, _, err := loadSharedFiles()
	if err != nil {
		return
	}
	for _, p := range plans {
		for _, other := range creds.ProfilesWithKey(p.key.AccessKeyID) {
			fmt.Fprintf(deps.Stderr, "warning: profile %s still holds key %s in plaintext: import it too (keywarden creds import --profile %s)\n",
				other, p.key.AccessKeyID, other)
		}
	}
}

// planImports lists the profiles to import, skipping (with a line) those
// that hold no key of their own or are imported already.
func planImports(deps Deps, req importRequest) ([]importPlan, error) {
	creds, config, err := loadSharedFiles()
	if err != nil {
		return nil, err
	}
	names := req.profiles
	switch {
	case req.all:
		names = creds.Profiles()
	case len(names) == 0:
		names = []string{cmpOr(os.Getenv("AWS_PROFILE"), "default")}
	}
	var plans []importPlan
	for _, name := range names {
		p, err := awsfile.Resolve(creds, config, name)
		switch {
		case errors.Is(err, awsfile.ErrCredentialProcess) && !req.all:
			fmt.Fprintf(deps.Stderr, "profile %s already uses credential_process: skipped\n", name)
			continue
		case err != nil && req.all:
			continue // --all takes what holds a key
		case err != nil:
			return nil, err
		case p.SourceProfile != "":
			fmt.Fprintf(deps.Stderr, "profile %s takes its key from source_profile %s: import %s instead\n", name, p.SourceProfile, p.SourceProfile)
			continue
		}
		path, err := sharedPath(p.KeyFile)
		if err != nil {
			return nil, err
		}
		plans = append(plans, importPlan{profile: name, key: p, path: path, kind: p.KeyFile})
	}
	return plans, nil
}

func sharedPath(kind awsfile.Kind) (string, error) {
	if kind == awsfile.Config {
		return awsfile.ConfigPath()
	}
	return awsfile.CredentialsPath()
}

// importOne stores the key, reads it back, then edits the file: the
// plaintext goes only once the store is known to hold it.
func importOne(ctx context.Context, store *vault.Store, p importPlan, process string, req importRequest) error {
	entry := vault.Entry{AccessKeyID: p.key.AccessKeyID, SecretAccessKey: p.key.SecretAccessKey, ImportedFrom: p.path, ImportedAt: time.Now().UTC()}
	if err := store.Put(p.profile, entry); err != nil {
		return err
	}
	back, err := store.Get(p.profile)
	if err != nil || back.AccessKeyID != entry.AccessKeyID || back.SecretAccessKey.Reveal() != entry.SecretAccessKey.Reveal() {
		return fmt.Errorf("the store did not give the key back (%v): the file was left as it was", err)
	}
	line := process + " process " + shellQuote(p.profile)
	if req.noSession {
		line += " --no-session"
	}
	return editShared(ctx, p.path, p.kind, func(f *awsfile.File) error {
		if err := f.Set(p.profile, "credential_process", line); err != nil {
			return err
		}
		if req.keep {
			return nil
		}
		for _, k := range []string{"aws_access_key_id", "aws_secret_access_key"} {
			if err := f.Delete(p.profile, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// editShared edits an AWS shared file under its lock, keeping its mode.
func editShared(ctx context.Context, path string, kind awsfile.Kind, edit func(*awsfile.File) error) error {
	unlock, err := awsfile.Lock(ctx, path)
	if err != nil {
		return err
	}
	defer unlock()
	f, mode, err := awsfile.Load(path, kind)
	if err != nil {
		return err
	}
	if err := edit(f); err != nil {
		return err
	}
	return awsfile.Save(path, f, mode)
}

// selfCommand is how credential_process runs this keywarden's creds
// command: by absolute path (the SDK runs it with no shell profile), with
// --vault when not the default store.
func selfCommand(deps Deps, opts *credsOptions) (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the keywarden binary: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", fmt.Errorf("locate the keywarden binary: %w", err)
	}
	if strings.Contains(exe, "go-build") {
		fmt.Fprintf(deps.Stderr, "warning: %s is a temporary 'go run' binary: install keywarden (go install) and import again\n", exe)
	}
	cmd := shellQuote(exe) + " creds"
	if opts.vaultPath != "" {
		abs, err := filepath.Abs(opts.vaultPath)
		if err != nil {
			return "", err
		}
		cmd += " --vault " + shellQuote(abs)
	}
	return cmd, nil
}

// shellQuote quotes s for sh (the SDKs run credential_process through a
// shell, or split it with shell rules) when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
