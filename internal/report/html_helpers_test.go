package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/keywarden/keywarden/internal/audit"
)

// auditHTMLOf renders the audit report of invs the way the CLI will: both
// documents built by their adapters from the same findings.
func auditHTMLOf(invs []audit.Inventory, asOf time.Time) AuditHTML {
	var findings []audit.Finding
	for _, inv := range invs {
		findings = append(findings, audit.Run(inv, audit.DefaultConfig(asOf))...)
	}
	return AuditHTML{
		Title: "keywarden audit — account 123456789012", Version: "1.2.3",
		GeneratedAt: asOf.Add(time.Minute), AsOf: asOf,
		Findings: AuditDocument(findings), Keys: KeysDocument(invs, findings, asOf),
	}
}

func renderAuditHTML(t testing.TB, r AuditHTML) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAuditHTML(&buf, r); err != nil {
		t.Fatalf("WriteAuditHTML: %v", err)
	}
	if bytes.Contains(buf.Bytes(), []byte("ZgotmplZ")) {
		t.Errorf("html/template rejected a value as unsafe (ZgotmplZ in output)")
	}
	return buf.Bytes()
}

// parseHTML parses a page the way a browser would and checks it is one
// document: one html, head and body element.
func parseHTML(t testing.TB, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parse html: %v", err)
	}
	for _, tag := range []string{"html", "head", "body"} {
		if n := len(findAll(doc, isTag(tag))); n != 1 {
			t.Fatalf("page has %d <%s> elements, want 1", n, tag)
		}
	}
	return doc
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

func isTag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

// withAttr matches elements of tag (any tag when empty) with attribute key
// equal to val.
func withAttr(tag, key, val string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Type != html.ElementNode || (tag != "" && n.Data != tag) {
			return false
		}
		v, ok := attrOf(n, key)
		return ok && v == val
	}
}

func attrOf(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// textOf is the text content of n, as the DOM's textContent.
func textOf(n *html.Node) string {
	var b strings.Builder
	if n.Type == html.TextNode {
		return n.Data
	}
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// byID finds the element with id, failing the test when there is none.
func byID(t testing.TB, doc *html.Node, id string) *html.Node {
	t.Helper()
	found := findAll(doc, withAttr("", "id", id))
	if len(found) != 1 {
		t.Fatalf("page has %d elements with id %q, want 1", len(found), id)
	}
	return found[0]
}

// tableRows returns the text of each body row's cells.
func tableRows(table *html.Node) [][]string {
	var rows [][]string
	for _, tbody := range findAll(table, isTag("tbody")) {
		for _, tr := range findAll(tbody, isTag("tr")) {
			var row []string
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
					row = append(row, textOf(c))
				}
			}
			rows = append(rows, row)
		}
	}
	return rows
}
