package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/ui"
)

// runAudit reads the account (or, with --org, every account), runs every
// check, reports, and turns findings at or above --fail-on into errFindings.
func runAudit(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) error {
	var prev audit.Previous
	if opts.diff != "" {
		var err error
		if prev, err = readPrevious(opts.diff, deps.Stderr); err != nil {
			return usageErr(err)
		}
	}
	res, err := auditAccounts(ctx, opts, deps, ad)
	if err != nil {
		return err
	}
	if opts.diff != "" {
		return reportDiff(opts, deps, prev, res)
	}
	doc := report.AuditDocument(res.findings)
	if opts.org {
		doc.Summary += fmt.Sprintf("; %d of %d accounts of the organization read", res.accounts-res.unread, res.accounts)
	}
	if opts.format == "html" {
		err = writeAuditHTML(opts, deps, ad, doc, res)
	} else {
		err = writeAuditReport(opts, deps, doc)
	}
	if err != nil {
		return err
	}
	for _, f := range res.findings {
		if f.Severity >= opts.failOn {
			return errFindings
		}
	}
	return nil
}

// runAuditKeys reads the account(s) and lists their keys with the findings on each.
func runAuditKeys(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) error {
	res, err := auditAccounts(ctx, opts, deps, ad)
	if err != nil {
		return err
	}
	doc := report.KeysDocument(res.inventories, res.findings, judgedAt(opts, ad))
	return writeAuditReport(opts, deps, doc)
}

// auditResult is what was read and found: one inventory per account read.
type auditResult struct {
	inventories []audit.Inventory
	findings    []audit.Finding
	accounts    int // accounts listed (1 without --org)
	unread      int // accounts that could not be read (--org)
}

// auditAccounts reads the account, or with --org the organization's.
func auditAccounts(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) (auditResult, error) {
	if opts.org {
		return auditOrganization(ctx, opts, deps, ad)
	}
	inv, stats, err := ad.read(ctx, awsx.Options{Profile: opts.profile, Region: opts.region}, auditaws.Options{Regions: opts.regions, NoKeyIDs: !opts.keyIDs})
	if err != nil {
		return auditResult{}, auditReadErr(err)
	}
	findings := judgeInventory(deps.Stderr, opts, ad, inv, stats.ReportAge, "")
	return auditResult{inventories: []audit.Inventory{*inv}, findings: findings, accounts: 1}, nil
}

// auditReadErr wraps a read that stopped the audit, with a hint for a denial.
func auditReadErr(err error) error {
	err = fmt.Errorf("audit: %w", err)
	if isAccessDenied(err) {
		return withHint(err, "docs/iam.md lists the read-only IAM actions keywarden audit needs")
	}
	return err
}

// judgeInventory tells stderr how old the inventory's credential report is
// and what could not be read (each line after prefix), and runs the checks.
func judgeInventory(stderr io.Writer, opts auditOptions, ad auditDeps, inv *audit.Inventory, reportAge time.Duration, prefix string) []audit.Finding {
	if inv.ReportGeneratedAt.IsZero() {
		fmt.Fprintf(stderr, "warning: %sno credential report: facts it gives (root user, MFA, last use) are unknown\n", prefix)
	} else {
		fmt.Fprintf(stderr, "%scredential report generated %s ago (%s); AWS refreshes it at most every 4 hours\n",
			prefix, formatAge(reportAge), inv.ReportGeneratedAt.UTC().Format(time.RFC3339))
	}
	warn := newWarner(stderr)
	for _, w := range inv.Warnings {
		warn.add(fmt.Errorf("%s%s", prefix, w))
	}
	warn.flush()
	cfg := opts.cfg
	cfg.AsOf = judgedAt(opts, ad)
	return audit.Run(*inv, cfg)
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
	return writeAuditOutput(opts, deps, func(w io.Writer, color bool) error {
		return report.Write(w, opts.format, doc, report.Options{Version: Version(), Color: color})
	})
}

// writeAuditHTML writes the self-contained HTML report: the findings and
// the key inventory of what was read.
func writeAuditHTML(opts auditOptions, deps Deps, ad auditDeps, findings report.Document, res auditResult) error {
	asOf := judgedAt(opts, ad)
	title := "keywarden audit"
	if len(res.inventories) == 1 && !opts.org {
		title += " — account " + res.inventories[0].AccountID
	} else if opts.org {
		title += " — organization"
	}
	page := report.AuditHTML{Title: title, Version: Version(), GeneratedAt: ad.now(), AsOf: asOf,
		Findings: findings, Keys: report.KeysDocument(res.inventories, res.findings, asOf)}
	return writeAuditOutput(opts, deps, func(w io.Writer, _ bool) error { return report.WriteAuditHTML(w, page) })
}

// writeAuditOutput renders to stdout (colour when it is a terminal) or,
// atomically, to --output.
func writeAuditOutput(opts auditOptions, deps Deps, render func(w io.Writer, color bool) error) error {
	if opts.output == "" {
		return render(deps.Stdout, ui.ColorOK(deps.Stdout))
	}
	return atomicfile.Write(opts.output, os.FileMode(0o644), func(w io.Writer) error { return render(w, false) })
}
