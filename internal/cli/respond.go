package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/state"
)

// respondOptions is everything `keywarden respond` was told.
type respondOptions struct {
	profile, region string
	regions         []string
	apply           bool
	since           time.Duration
	logs            []string
	noLookup        bool
	health          string
	replaceTo       []string
	quarantine      bool
	disableConsole  bool
	format, output  string
	statePath       string
}

const respondLong = `The playbook for an exposed access key, in one command. It plans first; it changes
nothing without --apply, and journals every change before making it.

  1. Identify: the account (decoded from the key id, offline); the owner (iam
     get-access-key-last-used works for any key of the account); status, creation, last use.
     For a temporary (ASIA) key, the key that minted it, when the logs show it. The key can
     also come from an AWS Health AWS_RISK_CREDENTIALS_EXPOSED event (--health-event FILE|-).
  2. Assess: the owner's effective rights (direct, group, inline, managed policies and the
     permissions boundary, as keywarden audit resolves them): administrator? dangerous rights?
     roles it may assume?
  3. Contain (--apply): deactivate the key — never delete it: a deleted key cannot come back
     and breaks production for good —; deny every session minted before now with an inline
     policy on aws:TokenIssueTime (AWS's AWSRevokeOlderSessions mechanism, on the user);
     optionally attach AWS's compromised-key quarantine policy (--quarantine) and delete the
     console password (--disable-console).
  4. Review: what the key did since --since, from CloudTrail LookupEvents in every enabled region
     (paced under its 2 requests/s limit; --no-lookup skips it) and/or CloudTrail log files
     (--logs s3://bucket/prefix or a directory or file); the temporary keys it minted are
     followed and their activity included. Summary by service, action, region, source IP, user
     agent and error; red flags; every resource it created, with the command that removes it.
  5. Replace (--replace-to TARGET, repeatable): a new key for the owner, delivered as
     'keywarden rotate --to' does; the exposed key stays inactive 30 days, then a later
     'keywarden rotate' deletes it.
  6. Report: text (markdown), html or json; json's "incident" field is the id 'respond undo' takes.

Run it as a different principal from the key's owner: AWS's quarantine policy denies the owner
the calls containment needs. docs/policies/respond.json is the policy the responder needs.

Exit status: 0 done (or planned), 2 error.`

func newRespondCmd(deps Deps) *cobra.Command {
	opts := respondOptions{}
	var since string
	cmd := &cobra.Command{
		Use:   "respond ACCESS_KEY_ID | --health-event FILE",
		Short: "Respond to an exposed key: identify, assess, contain, revoke sessions, review CloudTrail, replace, report",
		Long:  respondLong,
		Example: `  keywarden respond AKIAIOSFODNN7EXAMPLE                     # the plan and the review, nothing changed
  keywarden respond AKIAIOSFODNN7EXAMPLE --apply --quarantine
  keywarden respond AKIAIOSFODNN7EXAMPLE --logs s3://trail-bucket/AWSLogs/ --since 90d --format html -o incident.html
  keywarden respond --health-event health.json --apply --replace-to secretsmanager:ci/deployer
  keywarden respond undo inc-20261123T171400Z-1a2b3c4d         # false alarm: reverse the containment`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := respondKeys(deps, opts, args)
			if err != nil {
				return usageErr(err)
			}
			if opts.since, err = parseSpan("--since", since); err != nil {
				return usageErr(err)
			}
			if !contains([]string{"text", "markdown", "html", "json"}, opts.format) {
				return usageErr(fmt.Errorf("--format %q: want text, markdown, html or json", opts.format))
			}
			return runRespond(cmd.Context(), deps, opts, keys)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.apply, "apply", false, "make the containment changes (default: plan only)")
	f.StringVar(&since, "since", "30d", "review the key's activity this far back (h, d or w)")
	f.StringArrayVar(&opts.logs, "logs", nil, "CloudTrail logs to review: s3://bucket/prefix, a directory or a file (repeatable)")
	f.BoolVar(&opts.noLookup, "no-lookup", false, "do not call CloudTrail LookupEvents (review --logs only)")
	f.StringVar(&opts.health, "health-event", "", "take the key ids from an AWS Health AWS_RISK_CREDENTIALS_EXPOSED event (FILE, or - for stdin)")
	f.StringArrayVar(&opts.replaceTo, "replace-to", nil, "with --apply: create a new key for the owner and deliver it here (rotate's targets)")
	f.BoolVar(&opts.quarantine, "quarantine", false, "with --apply: attach AWS's compromised-key quarantine policy to the owner")
	f.BoolVar(&opts.disableConsole, "disable-console", false, "with --apply: delete the owner's console password")
	f.StringVarP(&opts.format, "format", "f", "text", "text|markdown|html|json")
	f.StringVarP(&opts.output, "output", "o", "", "write the report to FILE")
	f.StringVar(&opts.profile, "profile", "", "the responder's AWS profile (not the exposed key's)")
	f.StringVar(&opts.region, "region", "", "AWS region for IAM and STS (default: the SDK's)")
	f.StringSliceVar(&opts.regions, "regions", nil, "LookupEvents in these regions only (default: every enabled region)")
	f.StringVar(&opts.statePath, "state", "", "keywarden's state database (default $KEYWARDEN_STATE, else $XDG_STATE_HOME/keywarden/state.db)")
	cmd.AddCommand(newRespondUndoCmd(deps, &opts))
	return cmd
}

// respondKeys is the key of the argument, or those of --health-event.
func respondKeys(deps Deps, opts respondOptions, args []string) ([]string, error) {
	switch {
	case len(args) == 1 && opts.health != "":
		return nil, errors.New("give an access key id or --health-event, not both")
	case len(args) == 1:
		if !strings.HasPrefix(args[0], "AKIA") && !strings.HasPrefix(args[0], "ASIA") || len(args[0]) != 20 {
			return nil, fmt.Errorf("%q is not an access key id (AKIA… or ASIA…, 20 characters)", args[0])
		}
		return args, nil
	case opts.health == "":
		return nil, errors.New("give the exposed access key id, or --health-event FILE")
	}
	var data []byte
	var err error
	if opts.health == "-" {
		data, err = io.ReadAll(io.LimitReader(deps.Stdin, 1<<20))
	} else {
		data, err = os.ReadFile(opts.health)
	}
	if err != nil {
		return nil, fmt.Errorf("--health-event: %w", err)
	}
	return respond.KeysFromHealthEvent(data)
}

func runRespond(ctx context.Context, deps Deps, opts respondOptions, keys []string) error {
	r, db, cfg, err := newResponder(ctx, deps, opts)
	if err != nil {
		return err
	}
	defer db.Close()
	if !opts.noLookup || len(opts.logs) > 0 {
		r.Events = newEventSources(cfg, opts, deps)
	}
	for _, key := range keys {
		rep, err := r.Run(ctx, respond.Request{KeyID: key, Since: opts.since, Apply: opts.apply,
			Quarantine: opts.quarantine, DisableConsole: opts.disableConsole})
		if err == nil && opts.apply && len(opts.replaceTo) > 0 && rep.Owner != nil {
			err = replaceKey(ctx, deps, db, cfg, rep, opts.replaceTo)
		}
		if werr := writeRespondReport(deps, opts, rep); werr != nil && err == nil {
			err = werr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func newResponder(ctx context.Context, deps Deps, opts respondOptions) (*respond.Responder, *state.DB, aws.Config, error) {
	cfg, err := awsx.Load(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return nil, nil, cfg, err
	}
	path := opts.statePath
	if path == "" {
		if path, err = state.DefaultPath(); err != nil {
			return nil, nil, cfg, err
		}
	}
	db, err := state.Open(path)
	if err != nil {
		return nil, nil, cfg, err
	}
	return &respond.Responder{IAM: respondaws.New(cfg), DB: db, Out: deps.Stderr, Now: time.Now}, db, cfg, nil
}

func writeRespondReport(deps Deps, opts respondOptions, rep *respond.Report) error {
	if rep == nil {
		return nil
	}
	render := func(w io.Writer) error { return respond.Render(w, opts.format, rep) }
	if opts.output == "" {
		return render(deps.Stdout)
	}
	return atomicfile.Write(opts.output, 0o600, render)
}

func newRespondUndoCmd(deps Deps, opts *respondOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "undo INCIDENT",
		Short: "Reverse an incident's containment (false alarm): reactivate the key, remove the session deny and quarantine",
		Long: `Reverse the containment of INCIDENT (the id a respond --apply printed, also in its JSON report's
"incident" field): reactivate the key, remove the inline session-deny policy, detach the
quarantine policy. A deleted console password cannot be restored (AWS never shows it): the
command to set a new one is printed. Each reversal is journaled, so an interrupted undo can
run again.

Exit status: 0 undone, 2 error (no such incident, nothing left to undo, a reversal that failed).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, db, _, err := newResponder(cmd.Context(), deps, *opts)
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := r.Undo(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, state.ErrNotFound) {
					return usageErr(fmt.Errorf("no incident %s in %s", args[0], db.Path()))
				}
				return err
			}
			fmt.Fprintf(deps.Stdout, "undid incident %s\n", args[0])
			return nil
		},
	}
}
