package report

import (
	"fmt"
	"os"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
)

// AuditResultDocument is the findings of an audit; with --org its summary
// also counts the organization's accounts that were read.
func AuditResultDocument(res audit.Result) Document {
	doc := AuditDocument(res.Findings)
	if res.Org {
		doc.Summary += fmt.Sprintf("; %d of %d accounts of the organization read", res.Accounts-res.Unread, res.Accounts)
	}
	return doc
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
