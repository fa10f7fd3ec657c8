package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/sessionexec"
	"github.com/keywarden/keywarden/internal/vault"
)

const execLong = `Run CMD with short-term credentials for PROFILE in its environment: AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION and AWS_REGION (and
KEYWARDEN_PROFILE). Every other AWS credential variable, AWS_PROFILE and KEYWARDEN_PASSPHRASE
are removed, so CMD uses exactly this session and never gets the key to the store.

The long-term key at the root of the profile's chain comes from the store (profiles imported
with 'creds import') or from the credentials file. A plain profile gets sts get-session-token;
a role profile (role_arn with source_profile) gets sts assume-role along its chain, with
external_id, role_session_name and duration_seconds. With an mfa_serial anywhere on the chain,
one MFA code is asked (or --mfa-token) for the whole chain. Sessions of store-held keys are
cached in the store, encrypted, until 5 minutes before they expire.

Signals keywarden receives (INT, TERM, HUP, QUIT, USR1, USR2) are passed to CMD.

Exit status: CMD's own (128+N when signal N killed it, as in a shell); 2 when keywarden could
not run it (a usage error, no such command, no credentials, a session STS refused).`

func newExecCmd(deps Deps) *cobra.Command {
	var so sessionOptions
	opts := &credsOptions{}
	cmd := &cobra.Command{
		Use:   "exec PROFILE -- CMD [ARGS...]",
		Short: "Run a command with short-term credentials (GetSessionToken, AssumeRole, MFA) for a profile",
		Long:  execLong,
		Example: `  keywarden exec default -- aws s3 ls
  keywarden exec prod-admin --mfa-token 123456 -- terraform plan
  keywarden exec default -- env | grep AWS_`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return usageErr(errors.New("want PROFILE -- CMD [ARGS...]"))
			}
			return runExec(cmd.Context(), deps, opts, so, args[0], args[1:])
		},
	}
	so.flags(cmd, true)
	cmd.Flags().StringVar(&opts.vaultPath, "vault", "", "the encrypted store (default $KEYWARDEN_VAULT, else $XDG_DATA_HOME/keywarden/vault.age)")
	return cmd
}

func runExec(ctx context.Context, deps Deps, opts *credsOptions, so sessionOptions, profile string, argv []string) error {
	if inside := os.Getenv("KEYWARDEN_PROFILE"); inside != "" {
		return fmt.Errorf("already inside 'keywarden exec %s': run the command there, or exit that shell first", inside)
	}
	base, store, err := sourceKey(opts, profile)
	if err != nil {
		return err
	}
	key, exp := base, time.Time{}
	if !so.noSession {
		if key, exp, err = sessionFor(ctx, deps.Stderr, store, profile, base, so); err != nil {
			return err
		}
	} else if base.ID == "" {
		return fmt.Errorf("--no-session: profile %s has no long-term key of its own", profile)
	}
	region := so.region
	if region == "" {
		creds, config, err := loadSharedFiles()
		if err != nil {
			return err
		}
		if p, err := awsfile.Resolve(creds, config, profile); err == nil || p.Region != "" {
			region = p.Region
		}
	}
	code, err := sessionexec.Run(argv, sessionexec.Env(os.Environ(), profile, region, key, exp), deps.Stdin, deps.Stdout, deps.Stderr)
	var notRun *exec.Error
	if errors.As(err, &notRun) {
		return usageErr(err)
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return childExit(code)
	}
	return nil
}

// sourceKey is the long-term key at the root of profile's chain when it is
// in the store (the root was imported), with the store to cache sessions
// in; a zero key and no store when the root keeps its key in the files.
func sourceKey(opts *credsOptions, profile string) (credential.Key, *vault.Store, error) {
	creds, config, err := loadSharedFiles()
	if err != nil {
		return credential.Key{}, nil, err
	}
	p, err := awsfile.Resolve(creds, config, profile)
	switch {
	case err == nil:
		return credential.Key{ID: p.AccessKeyID, Secret: p.SecretAccessKey}, nil, nil
	case !errors.Is(err, awsfile.ErrCredentialProcess) || len(p.Chain) == 0:
		return credential.Key{}, nil, err
	}
	root := p.Chain[len(p.Chain)-1]
	store, err := openVault(opts)
	if err != nil {
		return credential.Key{}, nil, err
	}
	entry, err := store.Get(root)
	if errors.Is(err, vault.ErrNotFound) {
		return credential.Key{}, nil, fmt.Errorf("profile %s uses a credential_process, and %s is not in the store %s", root, root, store.Path())
	}
	if err != nil {
		return credential.Key{}, nil, err
	}
	return credential.Key{ID: entry.AccessKeyID, Secret: entry.SecretAccessKey}, store, nil
}
