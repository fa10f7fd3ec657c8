package report

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/keywarden/keywarden/internal/audit"
)

// Names and last-used services come from the account, so whatever they
// hold must stay text: no new elements, no handlers, and the cell shows the
// value as given.
func FuzzAuditHTMLKeepsAccountValuesAsText(f *testing.F) {
	f.Add("alice", "s3")
	f.Add("<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`)
	f.Add("</td></tr></tbody></table><svg onload=alert(1)>", "<!--")
	f.Add("]]><style>*{}</style>", "javascript:alert(1)")
	f.Add("{{.CSP}}", "\x00\xff")
	f.Fuzz(func(t *testing.T, name, service string) {
		inv := audit.Inventory{AccountID: "123456789012", ReportGeneratedAt: auditAsOf,
			Users: []audit.User{{Name: name, ARN: "arn:aws:iam::123456789012:user/" + name, Created: daysAgo(400),
				Password: audit.Yes, MFA: audit.No, Admin: audit.Yes, Dangerous: []string{service},
				Keys: []audit.Key{{Slot: 1, ID: exampleKeyID, Status: audit.KeyActive, Created: daysAgo(200),
					LastUsed: daysAgo(3), LastUsedService: service, LastUsedRegion: service}}}}}
		r := auditHTMLOf([]audit.Inventory{inv}, auditAsOf)
		r.Title = name
		doc := parseHTML(t, renderAuditHTML(t, r))

		if n := len(findAll(doc, isTag("script"))); n != 1 {
			t.Fatalf("page has %d <script> elements, want only its own", n)
		}
		for n := range doc.Descendants() {
			if n.Type != html.ElementNode {
				continue
			}
			if !expectedElements[n.Data] {
				t.Fatalf("a value became a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Fatalf("a value became a handler attribute %s on <%s>", a.Key, n.Data)
				}
			}
		}
		rows := tableRows(byID(t, doc, "keys-table"))
		if len(rows) != 1 {
			t.Fatalf("key inventory has %d rows, want 1", len(rows))
		}
		// The parser rewrites NUL, CR and invalid UTF-8; compare the rest.
		if plainText(name) && rows[0][1] != name {
			t.Errorf("user cell = %q, want %q", rows[0][1], name)
		}
		if plainText(service) && service != "" && rows[0][6] != service {
			t.Errorf("service cell = %q, want %q", rows[0][6], service)
		}
	})
}

// expectedElements is every element the page itself writes.
var expectedElements = map[string]bool{
	"html": true, "head": true, "body": true, "meta": true, "title": true, "style": true, "script": true,
	"header": true, "h1": true, "h2": true, "p": true, "time": true, "nav": true, "a": true, "main": true,
	"section": true, "ul": true, "li": true, "span": true, "details": true, "summary": true, "input": true,
	"output": true, "div": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"br": true, "code": true, "figure": true, "figcaption": true, "svg": true, "desc": true, "rect": true,
	"text": true, "line": true, "g": true, "footer": true,
}

func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, "\x00\r")
}
