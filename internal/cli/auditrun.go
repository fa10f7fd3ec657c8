package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/ui"
)

// runAudit reads the account, runs every check, reports, and turns findings
// at or above --fail-on into errFindings.
func runAudit(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) error {
	_, findings, err := auditAccount(ctx, opts, deps, ad)
	if err != nil {
		return err
	}
	if err := writeAuditReport(opts, deps, report.AuditDocument(findings)); err != nil {
		return err
	}
	for _, f := range findings {
		if f.Severity >= opts.failOn {
			return errFindings
		}
	}
	return nil
}

// runAuditKeys reads the account and lists its keys with the findings on each.
func runAuditKeys(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) error {
	inv, findings, err := auditAccount(ctx, opts, deps, ad)
	if err != nil {
		return err
	}
	doc := report.KeysDocument([]audit.Inventory{*inv}, findings, judgedAt(opts, ad))
	return writeAuditReport(opts, deps, doc)
}

// auditAccount reads the inventory, tells stderr how old its credential
// report is and what could not be read, and runs the checks.
func auditAccount(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) (*audit.Inventory, []audit.Finding, error) {
	inv, stats, err := ad.read(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	if err != nil {
		err = fmt.Errorf("audit: %w", err)
		if isAccessDenied(err) {
			return nil, nil, withHint(err, "docs/iam.md lists the read-only IAM actions keywarden audit needs")
		}
		return nil, nil, err
	}
	if inv.ReportGeneratedAt.IsZero() {
		fmt.Fprintln(deps.Stderr, "warning: no credential report: facts it gives (root user, MFA, last use) are unknown")
	} else {
		fmt.Fprintf(deps.Stderr, "credential report generated %s ago (%s); AWS refreshes it at most every 4 hours\n",
			formatAge(stats.ReportAge), inv.ReportGeneratedAt.UTC().Format(time.RFC3339))
	}
	warn := newWarner(deps.Stderr)
	for _, w := range inv.Warnings {
		warn.add(fmt.Errorf("%s", w))
	}
	warn.flush()
	cfg := opts.cfg
	cfg.AsOf = judgedAt(opts, ad)
	return inv, audit.Run(*inv, cfg), nil
}

// judgedAt is the time ages are judged at: --as-of, else now. Not the
// credential report's time: keys listed since it was generated would judge
// as created in the future, and a report's clock is not always right (moto's
// is fixed in 2015).
func judgedAt(opts auditOptions, ad auditDeps) time.Time {
	if !opts.asOf.IsZero() {
		return opts.asOf
	}
	return ad.now()
}

// formatAge renders a report age to the minute (2h13m, 45m), or in days
// and hours past two days (9d04h).
func formatAge(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

func writeAuditReport(opts auditOptions, deps Deps, doc report.Document) error {
	ropts := report.Options{Version: Version()}
	if opts.output == "" {
		ropts.Color = ui.ColorOK(deps.Stdout)
		return report.Write(deps.Stdout, opts.format, doc, ropts)
	}
	return atomicfile.Write(opts.output, os.FileMode(0o644), func(w io.Writer) error {
		return report.Write(w, opts.format, doc, ropts)
	})
}
