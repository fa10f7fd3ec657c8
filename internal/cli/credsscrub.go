package cli

import (
	"cmp"
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/scrub"
	"github.com/keywarden/keywarden/internal/vault"
)

func newCredsScrubCmd(deps Deps, opts *credsOptions) *cobra.Command {
	var importFound bool
	cmd := &cobra.Command{
		Use:   "scrub [DIR|FILE]...",
		Short: "Find plaintext AWS keys left in your home directory, and offer to import them",
		Long: `Scan the places plaintext AWS keys hide in a home directory — ~/.aws/credentials and
config, shell rc files, .env files, ~/.docker/config.json, ~/.config and the config files of
tools that take AWS keys (s3cmd, boto, s3fs, terraform, …) — with keywarden scan's detector,
plus any DIR or FILE given. Secrets are never printed: each finding shows the file, line,
key id and, for AWS shared files, the profile.

Keys in a profile of ~/.aws/credentials can be moved into the store at once (--import, or
answer yes): the same as 'keywarden creds import --profile P'. Keys elsewhere are listed with
what to do: remove them from that file after importing or rotating the key.

A place that cannot be read (permission denied, over the size limit, a link to a system
file) is a warning, and "no plaintext AWS keys found" then holds only for what was read.

Exit status: 0 nothing found, 1 keys found (and not all imported), 2 error, 3 incomplete
(nothing found, but some place could not be read).`,
		Example: "  keywarden creds scrub\n  keywarden creds scrub --import --yes\n  keywarden creds scrub ~/projects",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCredsScrub(cmd.Context(), deps, opts, args, importFound)
		},
	}
	cmd.Flags().BoolVar(&importFound, "import", false, "import the keys found in credential-file profiles into the store")
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runCredsScrub(ctx context.Context, deps Deps, opts *credsOptions, extra []string, importFound bool) error {
	home, err := deps.home()
	if err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	warn, gaps := newWarner(deps.Stderr), gap.List{}
	found, err := scrub.Scan(ctx, home, extra, func(e error) {
		gaps.Add(gap.Of("", e))
		warn.add(e)
	})
	warn.flush()
	if err != nil {
		return err
	}
	if len(found) == 0 && gaps.Len() > 0 {
		fmt.Fprintln(deps.Stdout, "no plaintext AWS keys found in what could be read (see the warnings)")
		return incomplete(gaps.Len(), fmt.Sprintf("%d place(s) could not be read", gaps.Len()), false)
	}
	if len(found) == 0 {
		fmt.Fprintln(deps.Stdout, "no plaintext AWS keys found")
		return nil
	}
	tw := tabwriter.NewWriter(deps.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tLINE\tKEY\tRULE\tPROFILE")
	for _, f := range found {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", f.Path, f.Line, cmp.Or(f.AccessKeyID, "-"), f.Rule, cmp.Or(f.Profile, "-"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(deps.Stdout, "\n%d plaintext key(s) found\n", len(found))
	profiles, outside := scrub.Importable(found)
	if len(profiles) == 0 {
		return errFindings
	}
	if !importFound && !deps.confirm(opts.yes, fmt.Sprintf("import profiles %v into the encrypted store?", profiles)) {
		return errFindings
	}
	opts.yes = true // asked once already
	im, err := newImporter(deps, opts, false, false)
	if err != nil {
		return err
	}
	if err := im.Run(ctx, vault.ImportRequest{Profiles: profiles}); err != nil {
		return err
	}
	if outside > 0 {
		fmt.Fprintf(deps.Stdout, "%d key(s) outside ~/.aws remain in plaintext: rotate them (keywarden rotate) and remove them from those files\n", outside)
		return errFindings
	}
	return incomplete(gaps.Len(), fmt.Sprintf("%d place(s) could not be read", gaps.Len()), false)
}
