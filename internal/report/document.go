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
	// Incomplete is what the run could not read. SARIF carries it as
	// toolExecutionNotifications with executionSuccessful false (see
	// sarifInvocations); a verb's text Summary says it in words.
	Incomplete []gap.Gap
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
