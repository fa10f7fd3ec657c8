package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/vault"
)

func newCredsImportCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var req vault.ImportRequest
	var keep, noSession bool
	cmd := &cobra.Command{
		Use:   "import [--profile P]... | --all",
		Short: "Move profiles' long-term keys into the store and point them at 'keywarden creds process'",
		Long: `Move each profile's long-term key into the encrypted store, then replace its
aws_access_key_id and aws_secret_access_key lines with
  credential_process = /path/to/keywarden creds process PROFILE
Every other byte of the file is unchanged, and the key is read back from the store before the
plaintext lines are removed. --keep-plaintext keeps them (the SDK then still prefers them).
Before anything changes, every file to rewrite is tried for writing and the store is read with
its passphrase; a failure after the first change puts every file back byte for byte and the
store's entries as they were.

The profile then gets short-term credentials (sts get-session-token, cached encrypted until
shortly before they expire). Credentials from GetSessionToken cannot call IAM without MFA:
give the profile an mfa_serial, or import it with --no-session to serve the long-term key.

Without a terminal to confirm on, pass --yes.

Exit status: 0 imported (or nothing to import), 2 usage or runtime error, or the import
declined (nothing changed).`,
		Example: "  keywarden creds import                 # the default profile\n  keywarden creds import --all --yes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.All && len(req.Profiles) > 0 {
				return usageErr(errors.New("--profile and --all exclude each other"))
			}
			req.AWSProfile = deps.Getenv("AWS_PROFILE")
			im, err := newImporter(deps, opts, keep, noSession)
			if err != nil {
				return err
			}
			return im.Run(cmd.Context(), req)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&req.Profiles, "profile", nil, "profile to import (repeatable; default AWS_PROFILE, else default)")
	f.BoolVar(&req.All, "all", false, "import every profile of the credentials file that holds a long-term key")
	f.BoolVar(&keep, "keep-plaintext", false, "keep the plaintext key lines in the file")
	f.BoolVar(&noSession, "no-session", false, "serve the long-term key itself, not a GetSessionToken session (for IAM calls without MFA)")
	f.BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// newImporter imports into opts' store, once the person agrees (or --yes).
func newImporter(deps Deps, opts *credsOptions, keep, noSession bool) (vault.Importer, error) {
	files, err := awsfile.SharedPaths()
	return vault.Importer{
		Files:         files,
		Confirm:       func(question string) bool { return deps.confirm(opts.yes, question) },
		Open:          func() (*vault.Store, error) { return deps.openVault(opts) },
		Command:       func() (string, error) { return selfCommand(deps, opts) },
		KeepPlaintext: keep, NoSession: noSession,
		Now: deps.Now, Out: deps.Stdout, Err: deps.Stderr,
	}, err
}

// selfCommand is how credential_process runs this keywarden's creds command.
func selfCommand(deps Deps, opts *credsOptions) (string, error) {
	exe, err := deps.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the keywarden binary: %w", err)
	}
	cmd, err := vault.ProcessCommand(exe, opts.vaultPath)
	if strings.Contains(cmd, "go-build") {
		fmt.Fprintf(deps.Stderr, "warning: %s is a temporary 'go run' binary: install keywarden (go install) and import again\n", exe)
	}
	return cmd, err
}
