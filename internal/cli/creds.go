package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/internal/vault"
)

// credsOptions are the flags the creds commands share.
type credsOptions struct {
	vaultPath string
	backend   string
	yes       bool
}

// addVault declares --vault, the store's path.
func addVault(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "vault", "", "the encrypted store (default $KEYWARDEN_VAULT, else $XDG_DATA_HOME/keywarden/vault.age)")
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
	addVault(pf, &opts.vaultPath)
	pf.StringVar(&opts.backend, "backend", "", "for a new store: keyring or file (default: keyring where available)")
	cmd.AddCommand(newCredsImportCmd(deps, opts), newCredsExportCmd(deps, opts), newCredsListCmd(deps, opts),
		newCredsRemoveCmd(deps, opts), newCredsProcessCmd(deps, opts), newCredsScrubCmd(deps, opts))
	return cmd
}

// openVault opens the store, asking for a passphrase when the file backend
// needs one and KEYWARDEN_PASSPHRASE is unset.
func (d Deps) openVault(opts *credsOptions) (*vault.Store, error) {
	vo := vault.Options{Path: opts.vaultPath, Backend: opts.backend, Passphrase: vault.AskPassphrase(d.Prompter.Ask), ScryptLogN: vault.ServingLogN}
	if n, err := strconv.Atoi(d.Getenv("KEYWARDEN_VAULT_SCRYPT_LOGN")); err == nil {
		vo.ScryptLogN = n // tests only: a fast work factor
	}
	return vault.Open(vo)
}

func newCredsListCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the profiles whose keys are in the store (never the secrets)",
		Long: `List the profiles whose keys are in the store: profile, key id and when it was imported,
never the secrets.

Exit status: 0 listed (an empty store too), 2 usage or runtime error.`,
		Example: "  keywarden creds list\n  keywarden creds list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := deps.openVault(opts)
			if err != nil {
				return err
			}
			items, err := store.List()
			if err != nil {
				return err
			}
			if format.value == "json" {
				return writeListedJSON(deps, store, items)
			}
			return writeListed(deps, store, items)
		},
	}
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	return cmd
}

const importedAt = "2006-01-02T15:04:05Z"

func writeListed(deps Deps, store *vault.Store, items []vault.Listed) error {
	if len(items) == 0 {
		fmt.Fprintf(deps.Stdout, "no keys in %s\n", store.Path())
		return nil
	}
	tw := tabwriter.NewWriter(deps.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROFILE\tKEY\tIMPORTED")
	for _, it := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Profile, it.AccessKeyID, it.ImportedAt.UTC().Format(importedAt))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(deps.Stdout, "\n%d in %s (%s backend)\n", len(items), store.Path(), store.Backend())
	return nil
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
		out.Keys = append(out.Keys, row{it.Profile, it.AccessKeyID, it.ImportedAt.UTC().Format(importedAt)})
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
			store, err := deps.openVault(opts)
			if err != nil {
				return err
			}
			if err := store.Forget(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(deps.Stdout, "removed %s from %s\n", args[0], store.Path())
			return nil
		},
	}
	return cmd
}
