package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/vault"
)

// rotateOptions is everything `keywarden rotate` was told.
type rotateOptions struct {
	profiles      []string // --profile (repeatable)
	allProfiles   bool
	user          string   // --user: a service user's key
	keyID         string   // --key-id: which of the user's keys
	to            []string // --to targets
	config        string   // --config rotations.yaml
	region        string
	grace         *spanFlag
	ifOlderThan   *spanFlag
	yes, dryRun   bool
	verifyTimeout time.Duration
	statePath     string
	mfaToken      string
	callerProfile string // with --user or --config: the profile whose credentials make a service user's IAM calls
}

var rotateLong = `Rotate IAM access keys without losing a credential or breaking what uses them.

For a profile of ~/.aws/credentials (--profile P, default AWS_PROFILE or "default"; or
--all-profiles), keywarden finds the key's user (sts get-caller-identity), checks
everything it can before the first change (below), then:

  1. creates the new key and journals it before anything else (AWS shows a secret once);
  2. writes it into every profile that shares the old key, changing no other byte of the
     file (comments, order, CRLF, other profiles), atomically, mode kept, backup kept;
  3. verifies it with STS, waiting through IAM's propagation delay (--verify-timeout);
     a key STS still refuses then is rolled back: the file put back byte for byte, the
     new key deleted, the old key never touched (journal: rolled-back);
  4. deactivates the old key (never deletes it at once: a deactivated key can come back);
  5. deletes the old key after --grace (default 7d; 0 deletes now). A later run deletes
     keys past their grace, unless the old key was used after deactivation: that is
     reported with the service and region that used it, and the key kept.

Checked before the first change (a failed check changes nothing, not even an earlier
rotation's due deletion; --dry-run runs the same checks and lists them):
  - the old key is active in IAM: an inactive one is refused, since rotating it would
    hide why it was deactivated;
  - IAM's two-key limit: an inactive second key is deleted only with consent; two
    active keys stop the run, naming the one in the file, the one not known locally,
    and each one's last use (date, service, region);
  - every target is ready: the credentials file, a dotenv file and their directories
    writable by this user (tried with a temporary file); GITHUB_TOKEN or GH_TOKEN,
    GITLAB_TOKEN set; a Secrets Manager secret or SSM parameter readable, and a JSON
    object where one is edited. A target that fails once changes began (a file made
    unwritable meanwhile) rolls the rotation back.

A profile using source_profile rotates its source's key; profiles with credential_process,
SSO, web identity or a session token are refused with the reason. With mfa_serial in the
profile, keywarden asks for one code (or --mfa-token) and makes the IAM calls with an MFA
session. A profile with role_arn, source_profile and mfa_serial whose user may not manage
its own keys (iam:ListAccessKeys denied) rotates its source's key as that role: one MFA
code, the role assumed as 'keywarden exec' assumes it, and one line on stderr (and
signed_as in the journal and 'rotate status') naming the role session that signed.

For a service user's key (--user NAME --to TARGET...), the caller's own credentials
(--profile) make the IAM calls and the new key is delivered to every target:
  ` + targetForms + `
The old key is deactivated only after every target accepted the new one; a target that fails
rolls the rotation back (targets restored, new key deleted). A target that cannot be read
back (GitHub secrets, exec) cannot be restored: then both keys stay active, and the run
after the target is fixed finishes the rotation.

--config FILE runs every rotation of a rotations file (see docs/rotate.md); its service users'
keys are rotated with the credentials of --profile, else the SDK's default chain.

Every step is journaled in keywarden's state database (--state, default
$XDG_STATE_HOME/keywarden/state.db) before the next change: kill the process at any step and
run it again, and it ends consistent: never a third key, never a key whose secret was lost
(an orphan created but never journaled is deleted), never a file pointing at a deactivated
key; a run killed while rolling back finishes the rollback. 'keywarden rotate status' lists
rotations still open; 'keywarden rotate undo' puts the previous key back while it still exists.

Exit status: 0 rotated (or not due), 2 usage error, a failed check (nothing changed), or a
rotation that stopped, failed or was rolled back.`

// targetForms is target.Forms on two lines, for the help text.
var targetForms = strings.Replace(target.Forms, ", github:", ",\n  github:", 1)

const rotateExample = `  keywarden rotate                                  # the default profile, old key deleted in 7 days
  keywarden rotate --profile prod --grace 0         # delete the old key as soon as the new one works
  keywarden rotate --all-profiles --if-older-than 90d --yes   # daily, from cron: only what is due
  keywarden rotate --dry-run                        # run the checks, print the plan, change nothing
  keywarden rotate --user ci-deployer --to secretsmanager:ci/deployer --to github:acme/api
  keywarden rotate --config rotations.yaml --yes    # every rotation a team keeps in git
  keywarden rotate status                           # rotations waiting to delete an old key
  keywarden rotate undo                             # put the previous key back`

func newRotateCmd(deps Deps) *cobra.Command {
	opts := rotateOptions{}
	cmd := &cobra.Command{
		Use:     "rotate",
		Short:   "Rotate access keys safely: create, journal, deliver, verify, deactivate, delete after a grace period",
		Long:    rotateLong,
		Example: rotateExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolve(); err != nil {
				return usageErr(err)
			}
			return runRotate(cmd.Context(), opts, deps)
		},
	}
	f := cmd.Flags()
	stateFlags(f, &opts)
	f.BoolVarP(&opts.yes, "yes", "y", false, "answer yes to every confirmation (unattended runs)")
	f.StringArrayVar(&opts.profiles, "profile", nil, "profile to rotate (repeatable; default AWS_PROFILE, else default); with --user or --config: the profile making a service user's IAM calls")
	f.BoolVar(&opts.allProfiles, "all-profiles", false, "rotate every profile of the credentials file that holds a long-term key")
	f.StringVar(&opts.user, "user", "", "rotate this IAM user's key and deliver it with --to (a service user)")
	f.StringVar(&opts.keyID, "key-id", "", "with --user: the key to replace when the user has two active keys")
	f.StringArrayVar(&opts.to, "to", nil, "deliver the new key here too (repeatable): "+target.Forms)
	f.StringVar(&opts.config, "config", "", "run every rotation of a rotations file (YAML, see docs/rotate.md)")
	opts.grace = addSpan(f, "grace", "7d", true, "delete the old key this long after deactivating it; 0 deletes it at once")
	opts.ifOlderThan = addSpan(f, "if-older-than", "", false, "rotate only keys at least this old, e.g. 90d (for daily cron runs)")
	f.BoolVar(&opts.dryRun, "dry-run", false, "run the checks a rotation makes first, print them and the plan, change nothing")
	f.DurationVar(&opts.verifyTimeout, "verify-timeout", 2*time.Minute, "how long to wait for IAM to propagate the new key before STS accepts it; then the rotation is rolled back")
	addMFAToken(f, &opts.mfaToken)
	cmd.AddCommand(newRotateStatusCmd(deps, &opts), newRotateUndoCmd(deps, &opts), newRotateScheduleCmd(deps))
	return cmd
}

// resolve checks the flag combination.
func (o *rotateOptions) resolve() error {
	modes := 0
	for _, on := range []bool{o.user != "", o.allProfiles, o.config != ""} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return fmt.Errorf("--user, --all-profiles and --config exclude each other")
	case o.allProfiles && len(o.profiles) > 0:
		return fmt.Errorf("--profile and --all-profiles exclude each other")
	case o.user != "" && len(o.to) == 0:
		return fmt.Errorf("--user %s: say where the new key goes with --to (%s)", o.user, target.Forms)
	case o.user != "" && len(o.profiles) > 1:
		return fmt.Errorf("--user: give at most one --profile (the caller's)")
	case o.config != "" && len(o.profiles) > 1:
		return fmt.Errorf("--config: give at most one --profile (the caller's, for the file's user entries)")
	case o.keyID != "" && o.user == "":
		return fmt.Errorf("--key-id goes with --user (a profile's key is the one in the file)")
	case o.verifyTimeout < 0:
		return fmt.Errorf("--verify-timeout %s: want a positive duration", o.verifyTimeout)
	}
	if (o.user != "" || o.config != "") && len(o.profiles) == 1 {
		o.callerProfile, o.profiles = o.profiles[0], nil
	}
	for _, spec := range o.to {
		if _, err := target.Parse(spec, target.Env{Kinds: targetaws.Kinds(aws.Config{})}); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
	}
	return nil
}

// stateFlags are the flags rotate, status and undo share (not schedule,
// whose job gets its own arguments).
func stateFlags(f *pflag.FlagSet, opts *rotateOptions) {
	addState(f, &opts.statePath, " (the rotations' journal)")
	addRegion(f, &opts.region, "AWS region for the IAM and STS calls (default: the profile's, else the SDK's)")
}

func runRotate(ctx context.Context, opts rotateOptions, deps Deps) error {
	s, err := rotateSession(opts, deps)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	job := rotate.Job{User: opts.user, KeyID: opts.keyID, Caller: opts.callerProfile, To: opts.to,
		Grace: opts.grace.d, IfOlderThan: opts.ifOlderThan.d}
	switch {
	case opts.user != "":
		return s.Rotate(ctx, job)
	case opts.config != "":
		cfg, err := rotate.LoadConfig(opts.config)
		if err != nil {
			return err
		}
		return s.RotateConfig(ctx, cfg, opts.config, job)
	}
	names, err := s.ProfileNames(opts.profiles, opts.allProfiles)
	if err != nil {
		return err
	}
	return s.RotateProfiles(ctx, names, job)
}

// rotateSession opens the state database and gives the engine the world.
func rotateSession(opts rotateOptions, deps Deps) (*rotate.Session, error) {
	db, err := deps.OpenState(opts.statePath)
	if err != nil {
		return nil, err
	}
	openStore := func() (*vault.Store, error) { return deps.openVault(&credsOptions{}) }
	return &rotate.Session{
		DB: db, Signers: rotateaws.Signers{Load: deps.LoadAWS},
		Profiles:  rotate.Profiles{Files: rotate.SharedFiles, Vault: openStore, Notes: deps.Stderr},
		TargetEnv: target.Env{Getenv: deps.Getenv, Stderr: deps.Stderr},
		Confirm:   func(question string) bool { return deps.confirm(opts.yes, question) },
		MFACode:   func(serial string) (string, error) { return mfaCode(deps, opts.mfaToken, serial) },
		Getenv:    deps.Getenv, Out: deps.Stdout, Err: deps.Stderr, Now: deps.Now,
		Region: opts.region, DryRun: opts.dryRun, VerifyTimeout: opts.verifyTimeout,
	}, nil
}

// mfaCode is --mfa-token, else the code the person at the terminal types.
func mfaCode(deps Deps, token, serial string) (string, error) {
	if token != "" {
		return token, nil
	}
	code, err := deps.Prompter.Ask("MFA code for "+serial+": ", true)
	if errors.Is(err, ui.ErrNoTerminal) {
		err = ui.ErrNoTerminal // without the question, which the message has already
	}
	if err == nil && code == "" {
		err = errors.New("empty answer")
	}
	if err != nil {
		return "", fmt.Errorf("no MFA code for %s (give --mfa-token for unattended runs): %w", serial, err)
	}
	return code, nil
}
