package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/watch"
)

func newCanaryCheckCmd(deps Deps) *cobra.Command {
	var profile, statePath string
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Alert on canary keys used by calls CloudTrail does not log",
		Long: `Check reads each registered canary key's last use (one iam:GetAccessKeyLastUsed call a
canary) and compares it with the last value seen. A date that moved is an alert unless watch
already alerted on a CloudTrail event of the key at that time (watch records them in the state
database): the probes attackers use to test a key without being seen (calls CloudTrail does not
log) still move the last-used date. A move younger than --grace is reported as pending and decided
by the next check, since CloudTrail may not have delivered its event yet. The new dates become the
baseline. 'keywarden watch --follow' runs the same check on every poll when canaries exist.

The credentials (--profile) must be allowed iam:GetAccessKeyLastUsed on the canary users.

Exit status: 0 no canary used unseen, 1 an unlogged use (an alert), 2 an error (none of the
canaries could be read: one line says why), 3 some canary's last use could not be read (and no
alert).`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	format := addFormat(cmd, f, "", "text", "json")
	addProfile(f, &profile, "")
	addState(f, &statePath, ": the canaries, their last use, the canary events watch saw")
	f.DurationVar(&grace, "grace", canary.DefaultGrace, "a last use this recent with no CloudTrail event yet is pending, not an alert")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runCanaryCheck(cmd.Context(), deps, canaryCheckOptions{profile, statePath, format.value, grace})
	}
	return cmd
}

type canaryCheckOptions struct {
	profile, statePath, format string
	grace                      time.Duration
}

func runCanaryCheck(ctx context.Context, deps Deps, opts canaryCheckOptions) error {
	db, err := deps.OpenState(opts.statePath)
	if err != nil {
		return err
	}
	defer db.Close()
	reg, err := canary.Load(ctx, db)
	if err != nil {
		return err
	}
	rep := canary.Report{Results: []canary.CheckResult{}}
	if reg.Len() > 0 {
		cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile})
		if err != nil {
			return err
		}
		check := canary.Check{IAM: canaryaws.New(cfg), Seen: watch.StateStore(db), Grace: opts.grace, Now: deps.Now}
		if rep, err = check.Run(ctx, reg.All()); err != nil {
			return err
		}
		if len(rep.Gaps) == reg.Len() { // it could not look at all: no "incomplete" report
			return fmt.Errorf("canary check: %s, none could be read: %s", english.Count(reg.Len(), "canary key"), rep.Gaps[0].Reason)
		}
		if err := canary.SaveLastUsed(ctx, db, rep.Changed); err != nil {
			return err
		}
	}
	if err := writeCanaryCheck(deps.Stdout, opts.format, rep, reg.Len()); err != nil {
		return err
	}
	return incomplete(len(rep.Gaps), fmt.Sprintf("%s could not be read", english.Count(len(rep.Gaps), "canary key")), rep.Alerts() > 0)
}

func writeCanaryCheck(w io.Writer, format string, rep canary.Report, n int) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			canary.Report
			Alerts int `json:"alerts"`
		}{rep, rep.Alerts()})
	}
	if n == 0 {
		_, err := fmt.Fprintln(w, "no canaries registered (keywarden canary create)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CANARY\tKEY\tSTATUS\tLAST USED\tPLANTED")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.KeyID, canaryStatus(r), lastUsedText(r), r.Where)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s checked: %d used by a call CloudTrail did not log\n", english.Count(n, "canary key"), rep.Alerts())
	return err
}

func canaryStatus(r canary.CheckResult) string {
	switch r.Status {
	case canary.Unlogged:
		return "ALERT: unlogged use"
	case canary.Alerted:
		return "used (alerted by watch: " + r.Event + ")"
	case canary.Pending:
		return "used (pending: no CloudTrail event yet)"
	case canary.Unreadable:
		return "unreadable: " + r.Reason
	}
	return "quiet"
}

func lastUsedText(r canary.CheckResult) string {
	if r.LastUsed.IsZero() {
		return "never"
	}
	s := r.LastUsed.UTC().Format(time.RFC3339)
	if r.Service != "" {
		s += " " + r.Service
	}
	if r.Region != "" {
		s += " " + r.Region
	}
	return s
}
