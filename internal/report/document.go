package report

import (
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/severity"
)

// Document is what every format renders: a verb's adapter turns its own
// findings (scan findings, audit results, watch alerts) into one.
type Document struct {
	Columns []string   // machine field keys in order: the CSV header, also when there are no entries
	Rules   []RuleMeta // every rule entries may name, for SARIF's rule table
	Entries []Entry
	Summary string // the last line of text output
	// Header, when set, makes text output a plain table: this header row,
	// then each entry's Details as its cells (no position, severity or rule
	// columns, no groups). Audit reports use it: their entries have no file
	// position.
	Header []string
	// Incomplete is what the run could not read: the entries are then what
	// was found in the rest, never a claim that the rest is clean. Text
	// lists them before the summary, SARIF as the invocation's
	// notifications (executionSuccessful false, see sarifInvocations), HTML
	// in a banner.
	Incomplete []gap.Gap
	// GapRows are the gaps again as rows of the machine formats (json,
	// jsonl, csv), in the shape of the entries (an audit's
	// KW-AUDIT-INCOMPLETE finding), so that a consumer of the list never
	// meets an object of another shape. Verbs whose machine output has its
	// own incomplete list leave it empty.
	GapRows [][]Field
}

// rows is the document's machine rows: each entry, then each gap row.
func (d Document) rows() [][]Field {
	out := make([][]Field, 0, len(d.Entries)+len(d.GapRows))
	for _, e := range d.Entries {
		out = append(out, e.Fields)
	}
	return append(out, d.GapRows...)
}

// Entry is one finding in format-neutral form.
type Entry struct {
	RuleID      string
	Severity    severity.Level
	Message     string   // one sentence, nothing secret in clear: SARIF message, text fallback
	Location    Location // where, for text grouping and SARIF
	Fields      []Field  // the machine form (json, jsonl, csv), in contract order
	Fingerprint string   // stable identity, for baselines and SARIF partialFingerprints
	Details     []string // text columns after position, severity and rule
	Properties  []Field  // extra SARIF result properties
}

// Location says where an entry was found.
type Location struct {
	Path   string // file path, archive member, URL or resource
	Line   int    // 1-based; 0 when not known
	Column int    // 1-based; 0 when not known
	Group  string // text heading the entry is listed under; Path when empty
	// Logical names a thing that is not a file (an AWS resource ARN); SARIF
	// then gives a logical location instead of a physical one.
	Logical string
}

// Field is one key/value of an entry's machine form. Value is a string, an
// int, a bool, or nil (null in JSON, empty in CSV).
type Field struct {
	Key   string
	Value any
}

// RuleMeta describes a rule for SARIF consumers (GitHub code scanning).
type RuleMeta struct {
	ID       string
	Name     string // PascalCase display name
	Short    string // one line
	Full     string // a paragraph
	Help     string // what to do, plain text
	Severity severity.Level
	Tags     []string
}

func (l Location) group() string {
	if l.Group != "" {
		return l.Group
	}
	return l.Path
}
