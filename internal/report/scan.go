package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/scan"
	"github.com/keywarden/keywarden/internal/severity"
)

// scanColumns is the field order of docs/formats.md's "Scan finding fields"; session_token
// (only with ShowSecrets), encoding and message are added when present.
var scanColumns = []string{
	"rule", "severity", "key_id", "account_id", "secret", "secret_sha256", "fingerprint",
	"source", "path", "line", "column", "commit", "author", "date", "in_head", "verified", "arn",
}

// scanCSVColumns are the CSV header: every JSON field, the optional ones
// included so that every row has the same cells.
func scanCSVColumns(opts Options) []string {
	cols := slices.Clone(scanColumns)
	if opts.ShowSecrets {
		cols = slices.Insert(cols, slices.Index(cols, "secret")+1, "session_token")
	}
	return append(cols, "encoding", "message")
}

// ScanRules describes the scan rules for SARIF, each at its rule's default severity.
var ScanRules = withRuleSeverity([]RuleMeta{
	{ID: string(scan.RuleKeyPair), Name: "AWSAccessKeyPair", Tags: []string{"secret", "aws", "credential"},
		Short: "AWS access key id and secret access key",
		Full:  "An AWS access key id and its secret access key appear together: anyone who reads them can call AWS as the key's owner.",
		Help:  "Deactivate and rotate the key now (keywarden rotate), review its use in CloudTrail (keywarden respond), then remove it from the content and its history."},
	{ID: string(scan.RuleSession), Name: "AWSSessionCredentials", Tags: []string{"secret", "aws", "credential"},
		Short: "AWS temporary session credentials",
		Full:  "A temporary (ASIA) access key id with its secret and session token: usable until the session expires.",
		Help:  "Revoke the role's active sessions (keywarden respond), find where the credentials were minted, and remove them from the content."},
	{ID: string(scan.RuleSecretKey), Name: "AWSSecretAccessKey", Tags: []string{"secret", "aws", "credential"},
		Short: "AWS secret access key without its key id",
		Full:  "A value shaped like an AWS secret access key in a credential context; its key id was not found nearby.",
		Help:  "Find which access key this secret belongs to, rotate it, and remove the secret from the content and its history."},
	{ID: string(scan.RuleKeyID), Name: "AWSAccessKeyID", Tags: []string{"aws"},
		Short: "AWS access key id",
		Full:  "An AWS access key id alone: not a credential, but it reveals the AWS account and is often a sign the secret is near.",
		Help:  "Check that the matching secret is not exposed elsewhere; remove the key id if it should not be public."},
	{ID: string(scan.RuleExposedGit), Name: "ExposedGitDirectory", Tags: []string{"exposure"},
		Short: "Web site serves its .git directory",
		Full:  "The site serves its .git directory, so anyone can download its source and history, and every credential ever committed.",
		Help:  "Block access to .git on the web server, then scan the repository history and rotate every key found."},
	{ID: string(scan.RuleExposedFile), Name: "ExposedSensitiveFile", Tags: []string{"exposure"},
		Short: "Web site serves a sensitive file",
		Full:  "The site serves a file that usually holds credentials (.env, .aws/credentials, ...).",
		Help:  "Remove the file from the web root, and rotate every credential it held."},
	{ID: string(scan.RuleCanary), Name: "AWSCanaryKey", Tags: []string{"aws", "canary"},
		Short: "One of your canary access keys (keywarden canary)",
		Full:  "The key of a canary registered in keywarden's state database: a trap key planted on purpose, not a leak. Any use of it raises an alert.",
		Help:  "Nothing to rotate. If this is not a place you planted it, the canary's secret was copied: check 'keywarden canary check' and watch's alerts."},
})

func withRuleSeverity(rules []RuleMeta) []RuleMeta {
	for i := range rules {
		rules[i].Severity = scan.Rule(rules[i].ID).Severity()
	}
	return rules
}

// ScanDocument turns scan findings into a Document, sorted by path, commit
// date, commit, line and column so output does not depend on scan order,
// with gaps, what the scan could not read, as its Incomplete.
func ScanDocument(findings []scan.Finding, gaps []gap.Gap, opts Options) Document {
	sorted := slices.Clone(findings)
	slices.SortStableFunc(sorted, compareFindings)
	doc := Document{Columns: scanCSVColumns(opts), Rules: ScanRules, Entries: make([]Entry, 0, len(sorted)), Incomplete: gaps}
	for _, f := range sorted {
		doc.Entries = append(doc.Entries, scanEntry(f, opts))
	}
	doc.Summary = scanSummary(sorted, gaps)
	return doc
}

func compareFindings(a, b scan.Finding) int {
	return cmp.Or(
		cmp.Compare(a.Path, b.Path),
		a.Date.Compare(b.Date),
		cmp.Compare(a.Commit, b.Commit),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.KeyID, b.KeyID),
	)
}

func scanEntry(f scan.Finding, opts Options) Entry {
	shown := f.Secret.Redacted()
	if opts.ShowSecrets {
		shown = f.Secret.Reveal()
	}
	loc := Location{Path: f.Path, Line: f.Line, Column: f.Column, Group: f.Path}
	if f.Commit != "" {
		loc.Group = fmt.Sprintf("%s @ %s", f.Path, shortCommit(f.Commit))
		if f.Author != "" || !f.Date.IsZero() {
			loc.Group += fmt.Sprintf(" (%s %s)", f.Author, formatDate(f.Date))
		}
		if !f.InHead {
			loc.Group += ", no longer at HEAD"
		}
	}
	return Entry{
		RuleID:      string(f.Rule),
		Severity:    f.Severity,
		Message:     scanMessage(f),
		Location:    loc,
		Fields:      scanFields(f, shown, opts),
		Fingerprint: f.Fingerprint,
		Details:     scanDetails(f, shown),
		Properties:  scanProperties(f),
	}
}

func scanFields(f scan.Finding, shown string, opts Options) []Field {
	fields := []Field{
		{"rule", string(f.Rule)}, {"severity", f.Severity.String()}, {"key_id", f.KeyID},
		{"account_id", f.AccountID}, {"secret", shown},
	}
	if opts.ShowSecrets && !f.SessionToken.IsZero() {
		fields = append(fields, Field{"session_token", f.SessionToken.Reveal()})
	}
	fields = append(fields,
		Field{"secret_sha256", f.SecretSHA256}, Field{"fingerprint", f.Fingerprint},
		Field{"source", f.Source}, Field{"path", f.Path}, Field{"line", f.Line}, Field{"column", f.Column},
		Field{"commit", f.Commit}, Field{"author", f.Author}, Field{"date", formatDate(f.Date)},
		Field{"in_head", f.InHead}, Field{"verified", cmp.Or(f.Verified, scan.VerifiedNotChecked)}, Field{"arn", f.ARN},
	)
	if f.Encoding != "" {
		fields = append(fields, Field{"encoding", f.Encoding})
	}
	if f.Message != "" {
		fields = append(fields, Field{"message", f.Message})
	}
	return fields
}

// scanDetails are the text columns: key id, secret, account, verification.
func scanDetails(f scan.Finding, shown string) []string {
	if f.KeyID == "" && f.Secret.IsZero() {
		return []string{f.Message}
	}
	d := []string{cmp.Or(f.KeyID, "-"), "secret " + cmp.Or(shown, "-")}
	d = append(d, "account "+cmp.Or(f.AccountID, "?"))
	v := cmp.Or(f.Verified, scan.VerifiedNotChecked)
	switch {
	case v == scan.VerifiedNotChecked:
		d = append(d, "not verified")
	case f.ARN != "":
		d = append(d, v+" "+f.ARN)
	case v == scan.VerifiedCanary && f.Message != "":
		d = append(d, f.Message) // whose canary and where it was planted
	default:
		d = append(d, v)
	}
	if f.Encoding != "" {
		d = append(d, "("+f.Encoding+")")
	}
	return d
}

func scanMessage(f scan.Finding) string {
	var b strings.Builder
	switch {
	case f.KeyID == "" && f.Secret.IsZero():
		b.WriteString(cmp.Or(f.Message, string(f.Rule)))
	case f.KeyID == "":
		fmt.Fprintf(&b, "AWS secret access key %s (sha256 %.12s)", f.Secret.Redacted(), f.SecretSHA256)
	default:
		fmt.Fprintf(&b, "%s %s", ruleNoun(f.Rule), f.KeyID)
		if f.AccountID != "" {
			fmt.Fprintf(&b, " of account %s", f.AccountID)
		}
		if !f.Secret.IsZero() {
			fmt.Fprintf(&b, " with secret %s", f.Secret.Redacted())
		}
	}
	if f.Commit != "" {
		fmt.Fprintf(&b, ", in commit %s", f.Commit)
		if !f.InHead {
			b.WriteString(" (no longer at HEAD)")
		}
	}
	if v := f.Verified; v != "" && v != scan.VerifiedNotChecked {
		fmt.Fprintf(&b, "; verified: %s", v)
	}
	return b.String()
}

func ruleNoun(r scan.Rule) string {
	switch r {
	case scan.RuleKeyPair:
		return "AWS access key pair"
	case scan.RuleSession:
		return "AWS session credentials"
	}
	return "AWS access key id"
}

func scanProperties(f scan.Finding) []Field {
	var p []Field
	if f.Commit != "" {
		p = append(p, Field{"commit", f.Commit}, Field{"date", formatDate(f.Date)}, Field{"in_head", f.InHead})
	}
	if f.Verified != "" && f.Verified != scan.VerifiedNotChecked {
		p = append(p, Field{"verified", f.Verified})
	}
	if f.AccountID != "" {
		p = append(p, Field{"account_id", f.AccountID})
	}
	return p
}

// scanSummary is the last line of the text report; with gaps, it says its
// findings (or their absence) hold for what could be read, and lists the rest.
func scanSummary(findings []scan.Finding, gaps []gap.Gap) string {
	if len(findings) == 0 {
		return withGaps("no findings", len(gaps))
	}
	return withGaps(findingsSummary(findings), len(gaps))
}

func findingsSummary(findings []scan.Finding) string {
	bySev := map[severity.Level]int{}
	paths := map[string]bool{}
	active := 0
	for _, f := range findings {
		bySev[f.Severity]++
		paths[f.Path] = true
		if f.Verified == scan.VerifiedActive {
			active++
		}
	}
	var parts []string
	for s := severity.Critical; s >= severity.Info; s-- {
		if bySev[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", bySev[s], s))
		}
	}
	out := fmt.Sprintf("%s (%s) in %s", english.Count(len(findings), "finding"), strings.Join(parts, ", "), english.Count(len(paths), "file"))
	if active > 0 {
		out += fmt.Sprintf("; %d verified active", active)
	}
	return out
}

func shortCommit(c string) string { return c[:min(len(c), 12)] }

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
