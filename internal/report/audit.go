package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/severity"
)

// AuditColumns is the field order of docs/formats.md's "Audit finding fields".
var AuditColumns = []string{
	"check", "title", "severity", "account_id", "resource", "key_id", "evidence", "controls", "remediation", "as_of",
}

// auditHeader is the text table's header for audit findings.
var auditHeader = []string{"SEVERITY", "CHECK", "ACCOUNT", "RESOURCE", "KEY", "FINDING", "EVIDENCE"}

// evidenceHidden are evidence keys the text table leaves out: the status is
// implied by the check, the verdict by the title, the report time is on
// stderr, and a dangerous-rights summary repeats the list.
var evidenceHidden = map[string]bool{"key_status": true, "verdict": true, "report_generated_at": true, "summary": true}

// AuditRules describes every audit check for SARIF, from audit.Checks().
func AuditRules() []RuleMeta {
	var rules []RuleMeta
	for _, c := range audit.Checks() {
		full := c.Title + "."
		if len(c.Controls) > 0 {
			full += " Controls: " + strings.Join(c.Controls, ", ") + "."
		}
		rules = append(rules, RuleMeta{
			ID: c.ID, Name: ruleName(c.ID), Short: c.Title, Full: full, Severity: c.Severity,
			Help: "Each result's remediation property says what to do for that resource; " +
				"the checks are described in docs/audit.md.",
			Tags: append([]string{"aws", "iam"}, c.Controls...),
		})
	}
	return rules
}

// ruleName turns KW-KEY-TWO-ACTIVE into KeyTwoActive.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(id, "KW-"), "-") {
		if part == "" {
			continue
		}
		b.WriteString(part[:1] + strings.ToLower(part[1:]))
	}
	return b.String()
}

// AuditDocument turns audit findings into a Document, in the order given
// (audit.Run's: worst first, then account, resource, key).
func AuditDocument(findings []audit.Finding) Document {
	doc := Document{Columns: AuditColumns, Rules: AuditRules(), Header: auditHeader, Entries: make([]Entry, 0, len(findings))}
	for _, f := range findings {
		doc.Entries = append(doc.Entries, auditEntry(f))
	}
	doc.Summary = auditSummary(findings)
	return doc
}

func auditEntry(f audit.Finding) Entry {
	evidence := f.Evidence
	if evidence == nil {
		evidence = map[string]any{}
	}
	controls := f.Controls
	if controls == nil {
		controls = []string{}
	}
	key := cmp.Or(f.KeyID, slotLabel(f.Evidence))
	return Entry{
		RuleID:   f.Check,
		Severity: f.Severity,
		Message:  auditMessage(f, key),
		Location: Location{Path: f.Resource, Logical: f.Resource, Group: "account " + f.AccountID},
		Fields: []Field{
			{"check", f.Check}, {"title", f.Title}, {"severity", f.Severity.String()},
			{"account_id", f.AccountID}, {"resource", f.Resource}, {"key_id", f.KeyID},
			{"evidence", evidence}, {"controls", controls}, {"remediation", f.Remediation},
			{"as_of", rfc3339(f.AsOf)},
		},
		Fingerprint: auditFingerprint(f, key),
		Details: []string{
			f.Severity.String(), f.Check, cmp.Or(f.AccountID, "?"), resourceName(f.Resource),
			cmp.Or(key, "-"), f.Title, evidenceSummary(f.Evidence),
		},
		Properties: auditProperties(f),
	}
}

// slotLabel names a key known only by its credential-report slot.
func slotLabel(evidence map[string]any) string {
	if slot, ok := evidence["key_slot"]; ok {
		return fmt.Sprintf("access_key_%v", slot)
	}
	return ""
}

func auditMessage(f audit.Finding, key string) string {
	msg := fmt.Sprintf("%s: %s", f.Title, resourceName(f.Resource))
	if key != "" {
		msg += ", key " + key
	}
	if s := evidenceSummary(f.Evidence); s != "" {
		msg += " (" + s + ")"
	}
	return msg
}

// auditFingerprint identifies a finding across runs: the same check on the
// same resource and key, whatever the evidence (ages grow every day).
func auditFingerprint(f audit.Finding, key string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Check, f.AccountID, f.Resource, key}, "\x00")))
	return hex.EncodeToString(sum[:])
}

func auditProperties(f audit.Finding) []Field {
	p := []Field{{"account_id", f.AccountID}, {"resource", f.Resource}}
	if f.KeyID != "" {
		p = append(p, Field{"key_id", f.KeyID})
	}
	if len(f.Controls) > 0 {
		p = append(p, Field{"controls", f.Controls})
	}
	if len(f.Evidence) > 0 {
		p = append(p, Field{"evidence", f.Evidence})
	}
	if f.Remediation != "" {
		p = append(p, Field{"remediation", f.Remediation})
	}
	return p
}

// resourceName shortens an IAM ARN to what people call it: user/alice, root.
func resourceName(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return cmp.Or(arn, "-")
	}
	return parts[5]
}

// evidenceSummary renders evidence as key=value pairs in key order; lists
// are joined with commas.
func evidenceSummary(evidence map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(evidence)) {
		if evidenceHidden[k] || k == "key_slot" {
			continue
		}
		var v string
		switch x := evidence[k].(type) {
		case []string:
			v = strings.Join(x, ",")
		default:
			v = fmt.Sprint(x)
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

func auditSummary(findings []audit.Finding) string {
	if len(findings) == 0 {
		return "no findings"
	}
	bySev := map[severity.Level]int{}
	resources := map[string]bool{}
	accounts := map[string]bool{}
	for _, f := range findings {
		bySev[f.Severity]++
		resources[f.Resource] = true
		accounts[f.AccountID] = true
	}
	var parts []string
	for s := severity.Critical; s >= severity.Info; s-- {
		if bySev[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", bySev[s], s))
		}
	}
	return fmt.Sprintf("%s (%s) on %s in %s", english.Count(len(findings), "finding"), strings.Join(parts, ", "),
		english.Count(len(resources), "principal"), english.Count(len(accounts), "account"))
}

// rfc3339 renders t in UTC, or nil (null in JSON) when it is zero.
func rfc3339(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}
