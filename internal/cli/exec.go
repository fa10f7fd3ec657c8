package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os/exec"

	"github.com/spf13/cobra"

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
				return usageErr(fmt.Errorf("put -- between PROFILE and CMD: usage: %s", useLine(cmd)))
			}
			return runExec(cmd.Context(), deps, opts, so, args[0], args[1:])
		},
	}
	so.flags(cmd, true)
	addVault(cmd.Flags(), &opts.vaultPath)
	return cmd
}

func runExec(ctx context.Context, deps Deps, opts *credsOptions, so sessionOptions, profile string, argv []string) error {
	if inside := deps.Getenv("KEYWARDEN_PROFILE"); inside != "" {
		return fmt.Errorf("already inside 'keywarden exec %s': run the command there, or exit that shell first", inside)
	}
	open := func() (*vault.Store, error) { return deps.openVault(opts) }
	c, err := so.sessions(deps, nil).ForCommand(ctx, profile, so.noSession, open)
	if err != nil {
		return err
	}
	s := sessionexec.Session{Profile: profile, Region: cmp.Or(so.region, c.Region), Key: c.Key, Expires: c.Expires}
	code, err := sessionexec.Run(argv, sessionexec.Env(deps.Environ(), s), sessionexec.Stdio{In: deps.Stdin, Out: deps.Stdout, Err: deps.Stderr})
	var notRun *exec.Error
	switch {
	case errors.As(err, &notRun):
		return usageErr(err)
	case err != nil:
		return err
	case code != 0:
		return childExit(code)
	}
	return nil
}
