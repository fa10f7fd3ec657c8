package report

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/severity"
)

// AuditHTML is everything the HTML audit report shows.
type AuditHTML struct {
	Title       string // e.g. "keywarden audit — account 123456789012" (the caller builds it)
	Version     string
	GeneratedAt time.Time
	AsOf        time.Time // ages judged at
	Findings    Document  // from AuditDocument
	Keys        Document  // from KeysDocument
}

// The page layout lives in its own file so it can be edited as HTML.
//
//go:embed html_audit.tmpl
var auditHTMLSource string

// htmlAssets is the parsed template and the Content-Security-Policy that
// admits exactly its inline style and script (by hash) and nothing else:
// the report must work offline, and a value that slipped past escaping
// still could neither run nor load anything.
type htmlAssets struct {
	tmpl *template.Template
	csp  string
}

var loadHTMLAssets = sync.OnceValues(func() (htmlAssets, error) {
	t, err := template.New("audit").Parse(auditHTMLSource)
	if err != nil {
		return htmlAssets{}, fmt.Errorf("parse html template: %w", err)
	}
	style, err := inlineHash(t, "style")
	if err != nil {
		return htmlAssets{}, err
	}
	script, err := inlineHash(t, "script")
	if err != nil {
		return htmlAssets{}, err
	}
	csp := fmt.Sprintf("default-src 'none'; style-src '%s'; script-src '%s'; base-uri 'none'; form-action 'none'",
		style, script)
	return htmlAssets{tmpl: t, csp: csp}, nil
})

// inlineHash renders the named sub-template (one <style> or <script>
// element, no actions) and returns the CSP hash source of its content, as
// the page will carry it: html/template drops comments, so the hash is taken
// of the rendered text, not of the template source.
func inlineHash(t *template.Template, name string) (string, error) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, nil); err != nil {
		return "", fmt.Errorf("render html %s: %w", name, err)
	}
	s := buf.String()
	open, end := strings.IndexByte(s, '>'), strings.LastIndex(s, "</")
	if open < 0 || end < open {
		return "", fmt.Errorf("html %s template is not one element", name)
	}
	sum := sha256.Sum256([]byte(s[open+1 : end]))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// WriteAuditHTML writes r as one self-contained HTML page: no external
// styles, scripts, fonts or images, so it works opened from disk, offline.
func WriteAuditHTML(w io.Writer, r AuditHTML) error {
	assets, err := loadHTMLAssets()
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	var page bytes.Buffer
	if err := assets.tmpl.Execute(&page, newHTMLPage(r, assets.csp)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if _, err := w.Write(KeepIDsWhole(page.Bytes())); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// htmlPage is what the template renders: every value already in display
// form, so the template only lays it out.
type htmlPage struct {
	Title, Version  string
	CSP             string
	Generated, AsOf htmlTime
	FindingsSummary string
	KeysSummary     string
	Incomplete      []gap.Gap // what the audit could not read: the page's banner
	Severities      []sevCount
	Accounts        []string
	KeysTotal       int
	KeysActive      int
	Findings        []findingRow
	KeyColumns      []keyColumn
	KeyRows         [][]keyCell
	Chart           ageChart
}

// htmlTime is a time shown to people and given to machines (<time datetime>).
type htmlTime struct {
	Text, Machine string
}

func newHTMLTime(t time.Time) htmlTime {
	if t.IsZero() {
		return htmlTime{Text: "unknown"}
	}
	t = t.UTC()
	return htmlTime{Text: t.Format("2006-01-02 15:04 UTC"), Machine: t.Format(time.RFC3339)}
}

type sevCount struct {
	Name  string
	Count int
}

func newHTMLPage(r AuditHTML, csp string) htmlPage {
	p := htmlPage{
		Title: cmp.Or(r.Title, "keywarden audit"), Version: r.Version, CSP: csp,
		Generated: newHTMLTime(r.GeneratedAt), AsOf: newHTMLTime(r.AsOf),
		FindingsSummary: r.Findings.Summary, KeysSummary: r.Keys.Summary, Incomplete: r.Findings.Incomplete,
		Findings:  findingRows(r.Findings),
		KeysTotal: len(r.Keys.Entries), Chart: newAgeChart(r.Keys.Entries, r.AsOf),
	}
	p.KeyColumns, p.KeyRows = keyTable(r.Keys)
	for s := severity.Critical; s >= severity.Info; s-- {
		n := 0
		for _, e := range r.Findings.Entries {
			if e.Severity == s {
				n++
			}
		}
		p.Severities = append(p.Severities, sevCount{Name: s.String(), Count: n})
	}
	accounts := map[string]bool{}
	for _, doc := range []Document{r.Findings, r.Keys} {
		for _, e := range doc.Entries {
			if a := fieldString(e, "account_id"); a != "" {
				accounts[a] = true
			}
		}
	}
	for _, e := range r.Keys.Entries {
		if fieldString(e, "status") == "Active" {
			p.KeysActive++
		}
	}
	p.Accounts = slices.Sorted(maps.Keys(accounts))
	return p
}

// field returns the machine value of key, or nil when the entry has none.
func field(e Entry, key string) any {
	for _, f := range e.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return nil
}

// fieldString is a string field's value; other kinds read as empty.
func fieldString(e Entry, key string) string {
	s, _ := field(e, key).(string)
	return s
}

// fieldInt is a whole-number field's value; ok is false when the field is
// missing, null, or not a number (JSON-decoded documents carry float64).
func fieldInt(e Entry, key string) (n int, ok bool) {
	switch v := field(e, key).(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	}
	return 0, false
}

// detail is the entry's i-th text cell, empty when it has fewer.
func detail(e Entry, i int) string {
	if i < 0 || i >= len(e.Details) {
		return ""
	}
	return e.Details[i]
}
