package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/ui"
	"github.com/keywarden/keywarden/internal/vault"
)

// credsOptions are the flags the creds commands share.
type credsOptions struct {
	vaultPath string
	backend   string
	yes       bool
}

const credsLong = `Keep long-term access keys in an encrypted store instead of ~/.aws/credentials, and hand
programs short-term credentials minted from them.

'creds import' moves a profile's key into the store and replaces its two key lines with
  credential_process = keywarden creds process PROFILE
so the AWS CLI and SDKs get short-term credentials through keywarden (every other byte of
the credentials file is unchanged). 'creds export' undoes it.

The store is one age-encrypted file ($KEYWARDEN_VAULT, else $XDG_DATA_HOME/keywarden/vault.age).
Its key is kept in the OS keyring (Secret Service, macOS Keychain, Windows Credential
Manager) where one is available; otherwise the file is encrypted with a passphrase, asked on
the terminal or taken from KEYWARDEN_PASSPHRASE. A wrong passphrase is an error and changes
nothing. Secrets are never printed: 'creds list' shows profiles and key ids only.

See also: keywarden exec (run a command with short-term credentials), keywarden rotate (rotates
store-held keys in place).

Exit status: 0 done, 2 usage or runtime error (a wrong passphrase among them); 'creds scrub'
exits 1 when it finds plaintext keys.`

func newCredsCmd(deps Deps) *cobra.Command {
	opts := &credsOptions{}
	cmd := &cobra.Command{
		Use:   "creds",
		Short: "Move long-term keys into an encrypted store; serve short-term credentials (credential_process)",
		Long:  credsLong,
		Example: `  keywarden creds import --all            # every profile's key into the store
  keywarden creds list
  aws s3 ls --profile default             # now through 'keywarden creds process default'
  keywarden creds export default          # back to plaintext
  keywarden creds scrub                   # find plaintext keys left in your home directory`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&opts.vaultPath, "vault", "", "the encrypted store (default $KEYWARDEN_VAULT, else $XDG_DATA_HOME/keywarden/vault.age)")
	pf.StringVar(&opts.backend, "backend", "", "for a new store: keyring or file (default: keyring where available)")
	cmd.AddCommand(newCredsImportCmd(deps, opts), newCredsExportCmd(deps, opts), newCredsListCmd(deps, opts),
		newCredsRemoveCmd(deps, opts), newCredsProcessCmd(deps, opts), newCredsScrubCmd(deps, opts))
	return cmd
}

// defaultScryptLogN is the passphrase store's scrypt work factor: 2^16
// (0.3-0.5 s here, 64 MiB) rather than age's 2^18 (1.6 s, 256 MiB), because
// credential_process pays it on every AWS CLI command whose session is not
// cached; four diceware words stay far out of reach at 2^16.
const defaultScryptLogN = 16

// openVault opens the store, asking for a passphrase on the terminal when
// the file backend needs one and KEYWARDEN_PASSPHRASE is unset.
func openVault(opts *credsOptions) (*vault.Store, error) {
	vo := vault.Options{Path: opts.vaultPath, Backend: opts.backend, Passphrase: askPassphrase, ScryptLogN: defaultScryptLogN}
	if n, err := strconv.Atoi(os.Getenv("KEYWARDEN_VAULT_SCRYPT_LOGN")); err == nil {
		vo.ScryptLogN = n // tests only: a fast work factor
	}
	return vault.Open(vo)
}

func askPassphrase(confirm bool) (secret.Secret, error) {
	p, err := ui.Ask("keywarden store passphrase: ", true)
	if err != nil {
		return secret.Secret{}, fmt.Errorf("%w (set KEYWARDEN_PASSPHRASE for unattended use)", err)
	}
	if confirm {
		again, err := ui.Ask("again: ", true)
		if err != nil {
			return secret.Secret{}, err
		}
		if again != p {
			return secret.Secret{}, errors.New("the passphrases differ")
		}
	}
	if p == "" {
		return secret.Secret{}, errors.New("an empty passphrase would not protect the store")
	}
	return secret.New(p), nil
}

func newCredsListCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the profiles whose keys are in the store (never the secrets)",
		Long: `List the profiles whose keys are in the store: profile, key id and when it was imported,
never the secrets.

Exit status: 0 listed (an empty store too), 2 usage or runtime error.`,
		Example: "  keywarden creds list\n  keywarden creds list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErr(fmt.Errorf("--format %q: want text or json", format))
			}
			store, err := openVault(opts)
			if err != nil {
				return err
			}
			items, err := store.List()
			if err != nil {
				return err
			}
			if format == "json" {
				return writeListedJSON(deps, store, items)
			}
			if len(items) == 0 {
				fmt.Fprintf(deps.Stdout, "no keys in %s\n", store.Path())
				return nil
			}
			tw := tabwriter.NewWriter(deps.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "PROFILE\tKEY\tIMPORTED")
			for _, it := range items {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Profile, it.AccessKeyID, it.ImportedAt.UTC().Format("2006-01-02T15:04:05Z"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(deps.Stdout, "\n%d in %s (%s backend)\n", len(items), store.Path(), store.Backend())
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "text|json")
	return cmd
}

func writeListedJSON(deps Deps, store *vault.Store, items []vault.Listed) error {
	type row struct {
		Profile     string `json:"profile"`
		AccessKeyID string `json:"access_key_id"`
		ImportedAt  string `json:"imported_at"`
	}
	out := struct {
		Store   string `json:"store"`
		Backend string `json:"backend"`
		Keys    []row  `json:"keys"`
	}{Store: store.Path(), Backend: store.Backend(), Keys: []row{}}
	for _, it := range items {
		out.Keys = append(out.Keys, row{it.Profile, it.AccessKeyID, it.ImportedAt.UTC().Format("2006-01-02T15:04:05Z")})
	}
	enc := json.NewEncoder(deps.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func newCredsRemoveCmd(deps Deps, opts *credsOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove PROFILE",
		Short: "Delete a profile's key from the store (the key itself stays valid in AWS)",
		Long: `Delete PROFILE's key from the store. The access key stays valid in AWS: delete it there too
(aws iam delete-access-key) if nothing needs it. A profile whose credential_process still
points at keywarden stops working; 'creds export PROFILE' is the way back to plaintext instead.

Exit status: 0 removed, 2 error (PROFILE not in the store, a wrong passphrase).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := openVault(opts)
			if err != nil {
				return err
			}
			if err := store.Remove(args[0]); err != nil {
				return err
			}
			if err := store.DropSessions(args[0] + ":"); err != nil {
				return err
			}
			fmt.Fprintf(deps.Stdout, "removed %s from %s\n", args[0], store.Path())
			return nil
		},
	}
	return cmd
}
