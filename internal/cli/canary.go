package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/verify"
)

// canaryOptions are the flags every canary subcommand shares.
type canaryOptions struct {
	profile   string
	statePath string
}

func (o *canaryOptions) flags(cmd *cobra.Command, aws bool) {
	if aws {
		addProfile(cmd.Flags(), &o.profile, "AWS profile of the canary account, whose credentials make the IAM calls (default: the SDK's)")
	}
	addState(cmd.Flags(), &o.statePath, ", which records the canaries")
}

const canaryLong = `Plant canaries: real access keys of IAM users with no rights, written where a thief looks
(a credentials file, a .env, a Terraform tfvars, a Kubernetes Secret, a CI workflow). Nothing
legitimate ever uses them, so any use is an intrusion.

Each canary is an IAM user whose name and path read like an ordinary service or person
(svc-orders-sync under /service/, ci-deploy-assets under /ci/, laura.jensen under /), with an
explicit deny-all inline policy (a policy attached later cannot arm it) and one access key.
The user ARN is what a thief's probe reads in an AccessDenied message, so it must look ordinary.
Make canaries in a dedicated AWS account that is on no public list of canary accounts:
keywarden refuses a listed one (trufflehog and Pacu decode the account from the key id).

The state database records each canary (user, key id, where it was planted); the secret is
written only into the placements, never into the database and never on the terminal.
Create, rotate and delete are journaled: one killed midway is resumed or undone by running
the same command again (a create's lost key is replaced).`

func newCanaryCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "canary",
		Short: "Plant honey access keys that alert on any use and read like ordinary ones",
		Long:  canaryLong + "\n\nExit status: that of the subcommand (0 for this help), 2 for an unknown one.",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCanaryCreateCmd(d), newCanaryListCmd(d), newCanaryCheckCmd(d), newCanaryRotateCmd(d), newCanaryDeleteCmd(d))
	return cmd
}

func newCanaryCreateCmd(d Deps) *cobra.Command {
	var opts canaryOptions
	var places []string
	var user, path string
	var force bool
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a canary user and key, and plant the key",
		Long: `Create the canary NAME in the account of the current credentials: an IAM user (a generated
ordinary name and path, or --user and --path), its deny-all inline policy and one access key,
then write the key into each --place FORMAT:PATH, as the tool that writes that format would:

  credentials  a profile [NAME] appended to an AWS shared credentials file
  dotenv       AWS_ACCESS_KEY_ID=... lines appended to a .env file
  export       export AWS_ACCESS_KEY_ID=... lines appended to a shell file
  json         the output of 'aws iam create-access-key' (a new file)
  tfvars       aws_access_key = "..." appended to a Terraform .tfvars file
  k8s          a Kubernetes Secret NAME (data in base64), appended as a YAML document
  envfile      VAR=value lines for 'docker run --env-file'
  csv          the IAM console's accessKeys.csv (a new file)
  gha          a GitHub Actions workflow with the key in its env: block (a new file)

Files are written 0600 and atomically; a file that exists keeps every byte, the key goes after.
A file that already sets the key's variables, or a format that is a file of its own whose
file exists, is refused before any change. NAME is lower-case letters, digits, dots and dashes.
--format json prints {"name","user","arn","access_key_id","placements":[...]}: never the secret.

Exit status: 0 created (or an interrupted create finished), 2 usage error, a refused account,
name or placement (nothing changed), or a failure (run the command again to resume).`,
		Example: "  keywarden canary create billing-export --place credentials:~/.aws/credentials --place dotenv:app/.env\n" +
			"  keywarden canary create ci-deploy --user ci-deploy-web --path /ci/ --place gha:.github/workflows/deploy.yml --format json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := canary.CreateOptions{Name: args[0], User: user, Path: path, Force: force}
			for _, s := range places {
				p, err := canary.ParsePlacement(s)
				if err != nil {
					return usageErr(err)
				}
				if p.Path, err = placementPath(d, p.Path); err != nil {
					return err
				}
				o.Placements = append(o.Placements, p)
			}
			if err := canary.CheckName(o.Name); err != nil {
				return usageErr(err)
			}
			e, done, err := canaryEngine(cmd.Context(), d, opts, true)
			if err != nil {
				return err
			}
			defer done()
			res, err := e.Create(cmd.Context(), o)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(d.Stderr, "warning: canary %s: %s\n", o.Name, w)
			}
			if format.value == "json" {
				return writeCanaryJSON(d.Stdout, canaryView(res.Canary))
			}
			verb := "created"
			if res.Resumed {
				verb = "created (an interrupted create finished)"
			}
			c := res.Canary
			fmt.Fprintf(d.Stdout, "canary %s %s: user %s, key %s\n", c.Name, verb, c.ARN, c.AccessKeyID)
			for _, p := range c.Placements {
				fmt.Fprintf(d.Stdout, "  planted in %s:%s\n", p.Format, p.Path)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&places, "place", nil, "FORMAT:PATH to write the key into (repeatable); FORMAT one of "+strings.Join(canary.FormatNames, ", "))
	cmd.Flags().StringVar(&user, "user", "", "the IAM user name (default: a generated ordinary one)")
	cmd.Flags().StringVar(&path, "path", "", "the IAM path, such as /service/ (default: the generated name's)")
	cmd.Flags().BoolVar(&force, "force", false, "create even in an account on a public canary list, or with a --user/--path that tells")
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	opts.flags(cmd, true)
	return cmd
}

func newCanaryListCmd(d Deps) *cobra.Command {
	var opts canaryOptions
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the canaries and where each is planted",
		Long: `List the canaries of keywarden's state database: name, IAM user, key id, where the key was
planted, and the state (ready, or the step an interrupted create, rotate or delete reached).
No AWS call is made; nothing secret is shown.

Exit status: 0 listed (none included), 2 usage error or an unreadable state database.`,
		Example: "  keywarden canary list\n  keywarden canary list --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, done, err := canaryEngine(cmd.Context(), d, opts, false)
			if err != nil {
				return err
			}
			defer done()
			list, err := e.List(cmd.Context())
			if err != nil {
				return err
			}
			if format.value == "json" {
				views := make([]canaryJSON, 0, len(list))
				for _, en := range list {
					v := canaryView(en.Canary)
					v.State, v.CreatedAt = en.Step, en.Canary.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")
					views = append(views, v)
				}
				return writeCanaryJSON(d.Stdout, views)
			}
			return writeCanaryTable(d.Stdout, list)
		},
	}
	format = addFormat(cmd, cmd.Flags(), "", "text", "json")
	opts.flags(cmd, false)
	return cmd
}

func newCanaryRotateCmd(d Deps) *cobra.Command {
	var opts canaryOptions
	cmd := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Give a canary a new key, rewritten into every placement",
		Long: `Create a new access key for the canary NAME, rewrite it into every placement in place (the
bytes around it kept), then delete the old key. A rotation killed midway is finished by
running the command again.

Exit status: 0 rotated, 2 usage error, no canary NAME, or a failure (run it again to finish).`,
		Example: "  keywarden canary rotate billing-export",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, done, err := canaryEngine(cmd.Context(), d, opts, true)
			if err != nil {
				return err
			}
			defer done()
			c, err := e.Rotate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, "canary %s rotated: key %s, in %s\n", c.Name, c.AccessKeyID, english.Count(len(c.Placements), "placement"))
			return nil
		},
	}
	opts.flags(cmd, true)
	return cmd
}

func newCanaryDeleteCmd(d Deps) *cobra.Command {
	var opts canaryOptions
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a canary: its placements, key, policy and user",
		Long: `Remove the canary NAME: cut out of each placement exactly the bytes keywarden wrote (a file
it created and that holds nothing else is removed), then delete the user's keys, its inline
policy and the user. A placement whose block was changed or removed by hand is left as it
is, with a warning. A delete killed midway is finished by running the command again.
Asks before deleting unless --yes.

Exit status: 0 deleted, 2 usage error, no canary NAME, not confirmed (nothing deleted), or a
failure (run it again to finish).`,
		Example: "  keywarden canary delete billing-export --yes",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, done, err := canaryEngine(cmd.Context(), d, opts, true)
			if err != nil {
				return err
			}
			defer done()
			name := args[0]
			list, err := e.List(cmd.Context())
			if err != nil {
				return err
			}
			var c *canary.Canary
			for i := range list {
				if list[i].Canary.Name == name {
					c = &list[i].Canary
				}
			}
			if c == nil {
				return fmt.Errorf("canary %s: %w", name, canary.ErrNotFound)
			}
			if !d.confirm(yes, fmt.Sprintf("delete canary %s (user %s, key %s, %s)?", name, c.User, c.AccessKeyID,
				english.Count(len(c.Placements), "placement"))) {
				return fmt.Errorf("canary %s: not confirmed; nothing deleted", name)
			}
			r, err := e.Delete(cmd.Context(), name)
			for _, p := range r.Missing {
				fmt.Fprintf(d.Stderr, "warning: canary %s: %s:%s no longer holds the block keywarden wrote (changed or removed by hand): left as it is\n", name, p.Format, p.Path)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, "canary %s deleted: user %s, its key and policy, and %s\n", name, c.User, english.Count(len(c.Placements), "placement"))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	opts.flags(cmd, true)
	return cmd
}

// canaryEngine opens the state database and, when aws, the IAM adapter.
func canaryEngine(ctx context.Context, d Deps, o canaryOptions, aws bool) (*canary.Engine, func(), error) {
	db, err := d.OpenState(o.statePath)
	if err != nil {
		return nil, nil, err
	}
	e := &canary.Engine{DB: db, Now: d.Now, Listed: verify.KnownCanaries()}
	if aws {
		cfg, err := d.LoadAWS(ctx, awsx.Options{Profile: o.profile})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		e.IAM = canaryaws.New(cfg)
	}
	return e, func() { db.Close() }, nil
}

// placementPath is path with a leading ~/ expanded (the shell leaves it in
// FORMAT:~/x) and made absolute, so a later delete finds it from anywhere.
func placementPath(d Deps, path string) (string, error) {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		path = filepath.Join(d.Getenv("HOME"), rest)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("--place %s: %w", path, err)
	}
	return abs, nil
}

// canaryJSON is a canary as --format json prints it: nothing secret, no template.
type canaryJSON struct {
	Name        string          `json:"name"`
	User        string          `json:"user"`
	ARN         string          `json:"arn"`
	AccessKeyID string          `json:"access_key_id"`
	Placements  []placementJSON `json:"placements"`
	CreatedAt   string          `json:"created_at,omitempty"`
	State       string          `json:"state,omitempty"`
}

type placementJSON struct {
	Format string `json:"format"`
	Path   string `json:"path"`
}

func canaryView(c canary.Canary) canaryJSON {
	v := canaryJSON{Name: c.Name, User: c.User, ARN: c.ARN, AccessKeyID: c.AccessKeyID, Placements: []placementJSON{}}
	for _, p := range c.Placements {
		v.Placements = append(v.Placements, placementJSON{Format: p.Format, Path: p.Path})
	}
	return v
}

func writeCanaryJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeCanaryTable(w io.Writer, list []canary.Entry) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no canaries")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tUSER\tKEY\tSTATE\tPLANTED IN")
	for _, en := range list {
		c := en.Canary
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%s\t%s\n", c.Name, c.Path, c.User, c.AccessKeyID, en.Step, c.Where())
	}
	return tw.Flush()
}
