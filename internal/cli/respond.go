package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/state"
)

// respondOptions is everything `keywarden respond` was told.
type respondOptions struct {
	req             respond.Request
	since           *spanFlag
	format          *formatFlag
	profile, region string
	regions         []string
	logs            []string
	noLookup        bool
	health          string
	output          string
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
     It states per step what was checked, applied or failed ("steps"), and names every source
     that could not be read ("incomplete": a region denied, a log file corrupt at a record, a
     policy not readable): an event or a right there is unknown, never reported absent.

Run it as a different principal from the key's owner: AWS's quarantine policy denies the owner
the calls containment needs. docs/policies/respond.json is the policy the responder needs.

Exit status: 0 done (or planned), 2 error (the report, written all the same, says which step
failed and what was made), 3 incomplete: done, but some source could not be read.`

func newRespondCmd(deps Deps) *cobra.Command {
	opts := respondOptions{}
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
			keys, err := respond.Keys(args, opts.health, deps.Stdin)
			switch {
			case err != nil && opts.health != "" && len(args) == 0:
				return err // the event file's own fault: no usage hint helps
			case err != nil:
				return usageErr(err)
			}
			if err := respond.CheckLogs(opts.logs); err != nil {
				return err
			}
			return runRespond(cmd.Context(), deps, opts, keys)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.req.Apply, "apply", false, "make the containment changes (default: plan only)")
	opts.since = addSpan(f, "since", "30d", false, "review the key's activity this far back")
	f.StringArrayVar(&opts.logs, "logs", nil, "CloudTrail logs to review: s3://bucket/prefix, a directory or a file (repeatable)")
	f.BoolVar(&opts.noLookup, "no-lookup", false, "do not call CloudTrail LookupEvents (review --logs only)")
	f.StringVar(&opts.health, "health-event", "", "take the key ids from an AWS Health AWS_RISK_CREDENTIALS_EXPOSED event (FILE, or - for stdin)")
	f.StringArrayVar(&opts.req.ReplaceTo, "replace-to", nil, "with --apply: create a new key for the owner and deliver it here (rotate's targets)")
	f.BoolVar(&opts.req.Quarantine, "quarantine", false, "with --apply: attach AWS's compromised-key quarantine policy to the owner")
	f.BoolVar(&opts.req.DisableConsole, "disable-console", false, "with --apply: delete the owner's console password")
	opts.format = addFormat(cmd, f, "report format", "text", "markdown", "html", "json")
	f.StringVarP(&opts.output, "output", "o", "", "write the report to FILE")
	addRegions(f, &opts.regions, "LookupEvents in these regions only")
	pf := cmd.PersistentFlags() // undo's too: the same responder, the same journal
	addProfile(pf, &opts.profile, "the responder's AWS profile (not the exposed key's)")
	addRegion(pf, &opts.region, "AWS region for IAM and STS (default: the SDK's)")
	addState(pf, &opts.statePath, ": the incidents' journals")
	cmd.AddCommand(newRespondUndoCmd(deps, &opts))
	return cmd
}

func runRespond(ctx context.Context, deps Deps, opts respondOptions, keys []string) error {
	r, cfg, err := newResponder(ctx, deps, opts)
	if err != nil {
		return err
	}
	defer r.DB.Close()
	warn := newWarner(deps.Stderr)
	defer warn.flush()
	if !opts.noLookup || len(opts.logs) > 0 {
		src := &respond.Sources{Logs: opts.logs, Keys: keys, Objects: cloudtrailaws.S3Opener(cfg), Regions: opts.regions, Warn: warn.add}
		if !opts.noLookup {
			src.Lookup = cloudtrailaws.NewLookup(cfg)
		}
		r.Events = src
	}
	r.Rotator = respond.QuietDryRuns{Rotator: &rotate.Rotator{IAM: rotateaws.New(cfg), DB: r.DB, Out: deps.Stderr, Now: deps.Now,
		Confirm:       func(string) bool { return false },
		Targets:       rotate.Targets(target.Env{Kinds: targetaws.Kinds(cfg), Stderr: deps.Stderr}, nil),
		VerifyTimeout: 2 * time.Minute, VerifyEvery: time.Second}}
	req := opts.req
	req.Since = opts.since.d
	gaps := 0
	err = r.RunAll(ctx, keys, req, func(rep *respond.Report) error {
		gaps += len(rep.Incomplete)
		// 0600: an incident report names the exposed key and what it did.
		return writeOutput(deps, opts.output, 0o600, func(w io.Writer, _ bool) error { return respond.Render(w, opts.format.value, rep) })
	})
	if err != nil {
		return err
	}
	what := "1 source could not be read (the report names it)"
	if gaps != 1 {
		what = fmt.Sprintf("%d sources could not be read (the report names them)", gaps)
	}
	return incomplete(gaps, what, false)
}

// newResponder is the responder's identity (--profile, --region) and the
// journal (--state).
func newResponder(ctx context.Context, deps Deps, opts respondOptions) (*respond.Responder, aws.Config, error) {
	cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		return nil, cfg, err
	}
	db, err := deps.OpenState(opts.statePath)
	if err != nil {
		return nil, cfg, err
	}
	return &respond.Responder{IAM: respondaws.New(cfg), DB: db, Out: deps.Stderr, Now: deps.Now}, cfg, nil
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
			r, _, err := newResponder(cmd.Context(), deps, *opts)
			if err != nil {
				return err
			}
			defer r.DB.Close()
			if _, err := r.Undo(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, state.ErrNotFound) {
					return usageErr(fmt.Errorf("no incident %s in %s", args[0], r.DB.Path()))
				}
				return err
			}
			fmt.Fprintf(deps.Stdout, "undid incident %s\n", args[0])
			return nil
		},
	}
}
