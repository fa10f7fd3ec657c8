package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/vault"
	"github.com/keywarden/keywarden/internal/vault/vaultaws"
)

// processOutput is the credential_process contract, exactly: Version 1,
// and Expiration omitted for a long-term key (the SDK then never refreshes).
type processOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
}

func newCredsProcessCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var so sessionOptions
	cmd := &cobra.Command{
		Use:   "process PROFILE",
		Short: "Print short-term credentials for PROFILE in the credential_process format (for the AWS SDKs and CLI)",
		Long: `Print credentials for PROFILE as the AWS SDKs' credential_process contract wants them:
one JSON object with Version 1, AccessKeyId, SecretAccessKey, SessionToken and Expiration,
and nothing else on stdout. Errors go to stderr, with nothing on stdout.

The long-term key comes from the store; the session is minted with sts get-session-token
(with an MFA code, asked on the terminal, when the profile has mfa_serial) and cached in the
store, encrypted, until 5 minutes before it expires. 'creds import' writes the
credential_process line that runs this; you do not normally run it yourself.

Exit status: 0 credentials printed, 2 error.`,
		Example: "  credential_process = /usr/local/bin/keywarden creds process default",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCredsProcess(cmd.Context(), deps, opts, so, args[0])
		},
	}
	so.flags(cmd, false)
	return cmd
}

// sessionOptions are the flags of commands that mint sessions.
type sessionOptions struct {
	noSession bool
	mfaToken  string
	duration  time.Duration
	region    string
}

func (so *sessionOptions) flags(cmd *cobra.Command, exec bool) {
	f := cmd.Flags()
	f.BoolVar(&so.noSession, "no-session", false, "give the long-term key itself, not a session (GetSessionToken sessions cannot call IAM without MFA)")
	f.StringVar(&so.mfaToken, "mfa-token", "", "the MFA code, for a profile with mfa_serial (default: ask on the terminal)")
	f.DurationVar(&so.duration, "duration", 0, "session length (default: the profile's duration_seconds, else 1h)")
	if exec {
		f.StringVar(&so.region, "region", "", "AWS_REGION for the command (default: the profile's)")
	}
}

func runCredsProcess(ctx context.Context, deps Deps, opts *credsOptions, so sessionOptions, profile string) error {
	store, err := openVault(opts)
	if err != nil {
		return err
	}
	entry, err := store.Get(profile)
	if errors.Is(err, vault.ErrNotFound) {
		return fmt.Errorf("profile %s is not in the store %s (keywarden creds import --profile %s)", profile, store.Path(), profile)
	}
	if err != nil {
		return err
	}
	base := credential.Key{ID: entry.AccessKeyID, Secret: entry.SecretAccessKey}
	out := processOutput{Version: 1, AccessKeyID: base.ID, SecretAccessKey: base.Secret.Reveal()}
	if !so.noSession {
		key, exp, err := sessionFor(ctx, deps.Stderr, store, profile, base, so)
		if err != nil {
			return err
		}
		out = processOutput{Version: 1, AccessKeyID: key.ID, SecretAccessKey: key.Secret.Reveal(),
			SessionToken: key.SessionToken.Reveal(), Expiration: exp.UTC().Format(time.RFC3339)}
	}
	return json.NewEncoder(deps.Stdout).Encode(out)
}

// sessionFor returns a session for profile minted from base: from the
// store's cache when one is valid for at least 5 more minutes, else a new
// one, cached when store is not nil.
func sessionFor(ctx context.Context, stderr io.Writer, store *vault.Store, profile string, base credential.Key, so sessionOptions) (credential.Key, time.Time, error) {
	creds, config, err := loadSharedFiles()
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	spec, err := vault.SessionSpecFor(creds, config, profile, base)
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	if so.duration > 0 {
		spec.Duration = so.duration
	}
	_, notes := spec.Effective()
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	// Keyed by profile first, so a rotation can drop the profile's sessions.
	cacheKey := profile + ":" + spec.CacheKey()
	if store != nil {
		if s, ok, err := store.Session(cacheKey, time.Now()); err == nil && ok {
			return credential.Key{ID: s.AccessKeyID, Secret: s.SecretAccessKey, SessionToken: s.SessionToken}, s.Expiration, nil
		}
	}
	cfg, err := awsx.Load(ctx, awsx.Options{Region: cmpOr(so.region, spec.Region)})
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	key, exp, err := vaultaws.MintSession(ctx, cfg, spec, mfaPrompt(so.mfaToken))
	if err != nil {
		return credential.Key{}, time.Time{}, err
	}
	if store != nil {
		sess := vault.Session{AccessKeyID: key.ID, SecretAccessKey: key.Secret, SessionToken: key.SessionToken, Expiration: exp}
		if err := store.PutSession(cacheKey, sess); err != nil {
			return credential.Key{}, time.Time{}, fmt.Errorf("cache the session: %w", err)
		}
	}
	return key, exp, nil
}

// mfaPrompt answers with token, else asks on the terminal.
func mfaPrompt(token string) func(serial string) (string, error) {
	return func(serial string) (string, error) {
		if token != "" {
			return token, nil
		}
		code, err := ui.Ask("MFA code for "+serial+": ", true)
		if err != nil {
			return "", fmt.Errorf("%w (give --mfa-token)", err)
		}
		return code, nil
	}
}

func newCredsExportCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var keepStore bool
	cmd := &cobra.Command{
		Use:   "export PROFILE",
		Short: "Undo 'creds import': write the key back into the credentials file and drop it from the store",
		Long: `Write PROFILE's key from the store back into the file its credential_process line is in,
replacing that line (every other byte unchanged), then delete it from the store (unless
--keep-store). The file is written 0600, atomically.

Exit status: 0 exported, 2 error (PROFILE not in the store, a wrong passphrase).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCredsExport(cmd.Context(), deps, opts, args[0], keepStore)
		},
	}
	cmd.Flags().BoolVar(&keepStore, "keep-store", false, "keep the key in the store too")
	return cmd
}

func runCredsExport(ctx context.Context, deps Deps, opts *credsOptions, profile string, keepStore bool) error {
	store, err := openVault(opts)
	if err != nil {
		return err
	}
	entry, err := store.Get(profile)
	if err != nil {
		return fmt.Errorf("export %s: %w", profile, err)
	}
	creds, config, err := loadSharedFiles()
	if err != nil {
		return err
	}
	kind := awsfile.Credentials
	if _, ok := creds.Get(profile, "credential_process"); !ok {
		if _, ok := config.Get(profile, "credential_process"); ok {
			kind = awsfile.Config
		}
	}
	path, err := sharedPath(kind)
	if err != nil {
		return err
	}
	err = editShared(ctx, path, kind, func(f *awsfile.File) error {
		if err := f.Set(profile, "aws_access_key_id", entry.AccessKeyID); err != nil {
			return err
		}
		if err := f.Set(profile, "aws_secret_access_key", entry.SecretAccessKey.Reveal()); err != nil {
			return fmt.Errorf("write the secret of profile %s", profile) // never wrap: it could quote the value
		}
		return f.Delete(profile, "credential_process")
	})
	if err != nil {
		return fmt.Errorf("export %s: %w", profile, err)
	}
	if !keepStore {
		if err := store.Remove(profile); err != nil {
			return err
		}
	}
	fmt.Fprintf(deps.Stdout, "exported %s (%s) to %s\n", profile, entry.AccessKeyID, path)
	return nil
}
