package report

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/gap"
)

// AuditIncompleteCheck is the check of the rows an audit's json, jsonl
// and csv add for what it could not read: finding-shaped (severity info,
// evidence {"source", "reason"}), so that a consumer of the list meets no
// other shape. They are not findings: --fail-on never counts them, SARIF
// gives them as notifications, --diff skips them.
const AuditIncompleteCheck = "KW-AUDIT-INCOMPLETE"

// AuditCanariesCheck is the row an audit's json, jsonl and csv add when it
// recognised canary users and left them out (evidence {"canaries": N,
// "users": ["ACCOUNT/USER", ...]}); like the incomplete rows, not a finding.
const AuditCanariesCheck = "KW-AUDIT-CANARIES"

// AuditResultDocument is the findings of an audit and what it could not
// read; with --org its summary also counts the organization's accounts
// that were read.
func AuditResultDocument(res audit.Result) Document {
	doc := AuditDocument(res.Findings)
	if res.Org {
		doc.Summary += fmt.Sprintf("; %d of %d accounts of the organization read", res.Accounts-res.Unread, res.Accounts)
	}
	doc.Incomplete, doc.GapRows = AuditGaps(res), auditGapRows(res)
	if len(res.Canaries) > 0 {
		doc.GapRows = append(doc.GapRows, []Field{
			{"check", AuditCanariesCheck}, {"title", "Canary users recognised and not judged"}, {"severity", "info"},
			{"account_id", ""}, {"resource", ""}, {"key_id", ""},
			{"evidence", map[string]any{"canaries": len(res.Canaries), "users": res.Canaries}}, {"controls", []string{}},
			{"remediation", "none: canaries (keywarden canary) are meant to have an old, unused key"},
			{"as_of", rfc3339(res.AsOf)},
		})
	}
	doc.Summary = withGaps(doc.Summary, len(doc.Incomplete))
	return doc
}

// AuditGaps is what the audit could not read, for a report's Incomplete:
// named by account with --org.
func AuditGaps(res audit.Result) []gap.Gap {
	gaps := make([]gap.Gap, 0, len(res.Incomplete))
	for _, g := range res.Incomplete {
		source := g.Source
		if res.Org && !strings.HasPrefix(source, "account ") {
			source = "account " + g.Account + ": " + source
		}
		gaps = append(gaps, gap.Gap{Source: source, Reason: g.Reason})
	}
	return gaps
}

// auditGapRows is each gap as a row in the shape of a finding, for the
// machine formats.
func auditGapRows(res audit.Result) [][]Field {
	rows := make([][]Field, 0, len(res.Incomplete))
	for _, g := range res.Incomplete {
		rows = append(rows, []Field{
			{"check", AuditIncompleteCheck}, {"title", "Not read: the audit is incomplete"}, {"severity", "info"},
			{"account_id", g.Account}, {"resource", "arn:aws:iam::" + g.Account + ":root"}, {"key_id", ""},
			{"evidence", map[string]any{"source": g.Source, "reason": g.Reason}}, {"controls", []string{}},
			{"remediation", "what it would have shown is unknown, not absent: allow the audit the reads named " +
				"(docs/iam.md), or make the account or region reachable, and audit again"},
			{"as_of", rfc3339(res.AsOf)},
		})
	}
	return rows
}

// AuditPage is the HTML page of an audit, generated at generatedAt: its
// findings and the key inventory of what was read, titled by its account or
// its organization.
func AuditPage(res audit.Result, version string, generatedAt time.Time) AuditHTML {
	title := "keywarden audit"
	switch {
	case res.Org:
		title += " — organization"
	case len(res.Inventories) == 1:
		title += " — account " + res.Inventories[0].AccountID
	}
	return AuditHTML{Title: title, Version: version, GeneratedAt: generatedAt, AsOf: res.AsOf,
		Findings: AuditResultDocument(res), Keys: KeysDocument(res.Inventories, res.Findings, res.AsOf)}
}

// ReadAuditFile reads back the earlier audit report at path, for --diff. A
// report with no findings does not say when it was judged: its file's
// modification time stands in, and AsOfIsFileTime says so.
func ReadAuditFile(path string) (audit.Previous, error) {
	f, err := os.Open(path)
	if err != nil {
		return audit.Previous{}, err
	}
	defer f.Close()
	prev, err := ReadAuditReport(f)
	if err != nil {
		return audit.Previous{}, fmt.Errorf("read %s: %w", path, err)
	}
	if prev.AsOf.IsZero() {
		info, err := f.Stat()
		if err != nil {
			return audit.Previous{}, fmt.Errorf("read %s: %w", path, err)
		}
		prev.AsOf, prev.AsOfIsFileTime = info.ModTime(), true
	}
	return prev, nil
}
