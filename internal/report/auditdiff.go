package report

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/english"
)

// DiffColumns is the field order of one `keywarden audit --diff` row.
var DiffColumns = []string{
	"change", "check", "title", "severity", "account_id", "resource", "key_id", "created", "evidence", "remediation",
}

var diffHeader = []string{"CHANGE", "SEVERITY", "CHECK", "ACCOUNT", "RESOURCE", "KEY", "WHAT"}

// DiffDocument lists the changes since an earlier audit judged at since
// (zero when unknown), in the order given.
func DiffDocument(changes []audit.Change, since time.Time) Document {
	doc := Document{Columns: DiffColumns, Header: diffHeader, Entries: make([]Entry, 0, len(changes))}
	for _, c := range changes {
		doc.Entries = append(doc.Entries, diffEntry(c))
	}
	doc.Summary = diffSummary(changes, since)
	return doc
}

func diffEntry(c audit.Change) Entry {
	f := c.Finding
	e := auditEntry(f)
	what := cmp.Or(f.Title, string(c.Kind))
	if s := evidenceSummary(f.Evidence); s != "" {
		what += " (" + s + ")"
	}
	if !c.Created.IsZero() {
		what = "created " + c.Created.UTC().Format(time.RFC3339)
	}
	evidence := f.Evidence
	if evidence == nil {
		evidence = map[string]any{}
	}
	e.Fields = []Field{
		{"change", string(c.Kind)}, {"check", f.Check}, {"title", f.Title}, {"severity", f.Severity.String()},
		{"account_id", f.AccountID}, {"resource", f.Resource}, {"key_id", f.KeyID}, {"created", rfc3339(c.Created)},
		{"evidence", evidence}, {"remediation", f.Remediation},
	}
	e.Details = []string{
		string(c.Kind), f.Severity.String(), cmp.Or(f.Check, "-"), cmp.Or(f.AccountID, "?"),
		resourceName(f.Resource), cmp.Or(e.Details[4], "-"), what,
	}
	return e
}

func diffSummary(changes []audit.Change, since time.Time) string {
	when := "the earlier audit"
	if !since.IsZero() {
		when = "the audit of " + since.UTC().Format(time.RFC3339)
	}
	if len(changes) == 0 {
		return "no changes since " + when
	}
	count := map[audit.ChangeKind]int{}
	var order []audit.ChangeKind
	for _, c := range changes {
		if count[c.Kind] == 0 {
			order = append(order, c.Kind)
		}
		count[c.Kind]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
	}
	return fmt.Sprintf("%s since %s: %s", english.Count(len(changes), "change"), when, strings.Join(parts, ", "))
}
