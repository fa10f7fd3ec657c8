package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/vault"
	"github.com/keywarden/keywarden/internal/vault/vaultaws"
)

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
			store, err := deps.openVault(opts)
			if err != nil {
				return err
			}
			return so.sessions(deps, store).Process(cmd.Context(), deps.Stdout, args[0], so.noSession)
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
	addMFAToken(f, &so.mfaToken)
	f.Var(sessionLength{&so.duration}, "duration", "session length, 15m to 36h (default: the profile's duration_seconds, else 1h)")
	if exec {
		addRegion(f, &so.region, "AWS_REGION for the command (default: the profile's)")
	}
}

// sessions serves sessions cached in store (nil: none), minted through
// vaultaws with --mfa-token's code, else one asked.
func (so sessionOptions) sessions(deps Deps, store *vault.Store) vault.Sessions {
	minter := vaultaws.Minter{Load: deps.LoadAWS, Region: so.region, Token: so.mfaToken, Ask: deps.Prompter.Ask}
	return vault.Sessions{Store: store, Shared: awsfile.LoadShared, Mint: minter.Mint, Now: deps.Now, Duration: so.duration,
		Note: func(n string) { fmt.Fprintf(deps.Stderr, "note: %s\n", n) }}
}

// sessionLength is --duration: what STS grants, 15 minutes to 36 hours (a
// role's own maximum, at most 12h, is STS's to say).
type sessionLength struct{ p *time.Duration }

func (s sessionLength) String() string {
	if *s.p == 0 {
		return "" // unset: no "(default 0s)" in the help
	}
	return s.p.String()
}
func (s sessionLength) Type() string { return "duration" }

func (s sessionLength) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 15*time.Minute || d > 36*time.Hour {
		return errors.New("want 15m to 36h (e.g. 1h30m), the lengths STS grants")
	}
	*s.p = d
	return nil
}

func newCredsExportCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var keepStore bool
	cmd := &cobra.Command{
		Use:   "export PROFILE",
		Short: "Undo 'creds import': write the key back into the credentials file and drop it from the store",
		Long: `Write PROFILE's key from the store back into the file its credential_process line is in,
in that line's place (every other byte unchanged), then delete it from the store (unless
--keep-store). The file is written atomically, keeping its mode (0600 for a new file), as
'creds import' and 'keywarden rotate' write it.

Exit status: 0 exported, 2 error (PROFILE not in the store, a wrong passphrase).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := deps.openVault(opts)
			if err != nil {
				return err
			}
			files, err := awsfile.SharedPaths()
			if err != nil {
				return err
			}
			entry, path, err := vault.Export(cmd.Context(), store, files, args[0], keepStore)
			if err != nil {
				return err
			}
			fmt.Fprintf(deps.Stdout, "exported %s (%s) to %s\n", args[0], entry.AccessKeyID, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&keepStore, "keep-store", false, "keep the key in the store too")
	return cmd
}
