package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/report"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/state"
	"github.com/keywarden/keywarden/internal/ui"
)

// runAudit reads the account (or, with --org, every account), judges it,
// reports the findings (or with --diff what changed since an earlier
// report), and turns what fails --fail-on into errFindings.
func runAudit(ctx context.Context, opts auditOptions, deps Deps) error {
	prev, err := readPrevious(opts.diff, deps.Stderr)
	if err != nil {
		return err
	}
	res, err := auditAccounts(ctx, opts, deps)
	if err != nil {
		return err
	}
	doc, fails := report.AuditResultDocument(res), audit.Fails(res.Findings, opts.failOn.level)
	if opts.diff != "" {
		changes := audit.Diff(prev, res.Inventories, res.Findings)
		doc, fails = report.DiffDocument(changes, prev.AsOf), audit.DiffFails(changes, opts.failOn.level)
		doc.Incomplete = report.AuditGaps(res) // rows of another shape than a change's
	}
	render := document(opts.format.value, doc)
	if opts.format.value == "html" {
		page := report.AuditPage(res, Version(), deps.Now())
		render = func(w io.Writer, _ bool) error { return report.WriteAuditHTML(w, page) }
	}
	if err := writeOutput(deps, opts.output, 0o644, render); err != nil {
		return err
	}
	return incomplete(len(res.Incomplete), unreadSummary(res), fails)
}

// runAuditKeys reads the account(s) and lists their keys with the findings
// on each; what could not be read is named in text (the machine formats
// list keys only) and on stderr, and exits 3.
func runAuditKeys(ctx context.Context, opts auditOptions, deps Deps) error {
	res, err := auditAccounts(ctx, opts, deps)
	if err != nil {
		return err
	}
	doc := report.KeysDocument(res.Inventories, res.Findings, res.AsOf)
	doc.Incomplete = report.AuditGaps(res)
	if err := writeOutput(deps, opts.output, 0o644, document(opts.format.value, doc)); err != nil {
		return err
	}
	return incomplete(len(res.Incomplete), unreadSummary(res), false)
}

// unreadSummary is the one line of an incomplete audit: "1 of 3 accounts
// and 2 regions or reads could not be read (the report names them)".
func unreadSummary(res audit.Result) string {
	var parts []string
	if res.Unread > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d accounts", res.Unread, res.Accounts))
	}
	if n := len(res.Incomplete) - res.Unread; n == 1 {
		parts = append(parts, "1 region or read")
	} else if n > 1 {
		parts = append(parts, fmt.Sprintf("%d regions or reads", n))
	}
	return strings.Join(parts, " and ") + " could not be read (the report names them)"
}

// auditAccounts reads what opts name, judges it at --as-of (else now, once
// read) and tells stderr the audit's notes.
func auditAccounts(ctx context.Context, opts auditOptions, deps Deps) (audit.Result, error) {
	cfg, err := deps.LoadAWS(ctx, awsx.Options{Profile: opts.profile, Region: opts.region})
	var accounts []audit.Account
	if err == nil {
		scope := opts.scope
		scope.Progress = &auditaws.Progress{}
		progress := ui.StartProgress(deps.Stderr, scope.Progress.String, 250*time.Millisecond)
		accounts, err = auditaws.Read(ctx, cfg, scope)
		progress.Stop() // before any note, so that none lands on the progress line
	}
	if err != nil {
		err = fmt.Errorf("audit: %w", err)
		if errors.Is(err, awsx.ErrAccessDenied) {
			err = withHint(err, "docs/iam.md lists the read-only IAM actions keywarden audit needs")
		}
		return audit.Result{}, err
	}
	judge := opts.judge
	if judge.AsOf.IsZero() {
		judge.AsOf = deps.Now()
	}
	reg, err := canary.LoadExisting(ctx, opts.statePath, deps.OpenState)
	if err != nil {
		return audit.Result{}, err
	}
	if reg.Len() > 0 {
		judge.Canary = func(account, user string) bool { _, ok := reg.ByUser(account, user); return ok }
	}
	if judge.RetireClass, err = retireClasses(ctx, deps, opts.statePath); err != nil {
		return audit.Result{}, err
	}
	res := audit.Judge(accounts, judge)
	tellNotes(deps.Stderr, res.Notes)
	return res, nil
}

// tellNotes prints the audit's notes on stderr. Each account's warnings go
// through a warner of their own, so that one account's cannot crowd out
// another's.
func tellNotes(w io.Writer, notes []audit.Note) {
	warn, account := newWarner(w), ""
	for _, n := range notes {
		if n.Account != account {
			warn.flush()
			warn, account = newWarner(w), n.Account
		}
		switch n.Kind {
		case audit.NoteWarning:
			warn.add(errors.New(n.String()))
		case audit.NoteError:
			fmt.Fprintf(w, "error: %s\n", n)
		default:
			fmt.Fprintln(w, n)
		}
	}
	warn.flush()
}

// readPrevious reads the earlier report of --diff ("": none), and says on
// stderr when its file time stands in for the time it was judged.
func readPrevious(path string, stderr io.Writer) (audit.Previous, error) {
	if path == "" {
		return audit.Previous{}, nil
	}
	prev, err := report.ReadAuditFile(path)
	if err != nil {
		return prev, usageErr(fmt.Errorf("--diff: %w", err))
	}
	if prev.AsOfIsFileTime {
		fmt.Fprintf(stderr, "note: %s does not say when it was judged (no findings, or an older keywarden): "+
			"users and keys created since its file time, %s, are listed as new\n", path, prev.AsOf.UTC().Format(time.RFC3339))
	}
	return prev, nil
}

// retireClasses answers, from the classes retire plan saved, how each key
// is used (KW-KEY-RETIRABLE); nil when no database or no class exists.
func retireClasses(ctx context.Context, deps Deps, path string) (func(account, keyID string) (string, bool), error) {
	path, ok := state.Existing(path)
	if !ok {
		return nil, nil
	}
	db, err := deps.OpenState(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	saved, err := retire.LoadClasses(ctx, db)
	if err != nil || len(saved) == 0 {
		return nil, err
	}
	return func(account, keyID string) (string, bool) {
		c, ok := saved[keyID]
		if !ok || c.Account != "" && account != "" && c.Account != account {
			return "", false
		}
		return string(c.Class), true
	}, nil
}
