package report

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/keywarden/keywarden/internal/audit"
)

func TestAuditHTMLListsEveryFindingAndKey(t *testing.T) {
	r := auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf)
	doc := parseHTML(t, renderAuditHTML(t, r))

	if got := textOf(findAll(doc, isTag("title"))[0]); got != r.Title {
		t.Errorf("<title> = %q, want %q", got, r.Title)
	}
	findings := textOf(byID(t, doc, "findings-table"))
	for _, e := range r.Findings.Entries {
		for _, want := range []string{fieldString(e, "check"), fieldString(e, "resource"), fieldString(e, "title")} {
			if !strings.Contains(findings, want) {
				t.Errorf("findings table lacks %q", want)
			}
		}
	}
	rows := tableRows(byID(t, doc, "keys-table"))
	var keyIDs []string
	for _, row := range rows {
		keyIDs = append(keyIDs, row[2])
	}
	want := []string{"access_key_1", exampleKeyID, exampleOtherKeyID, "access_key_2"}
	if diff := cmp.Diff(want, keyIDs); diff != "" {
		t.Errorf("key inventory ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(r.Keys.Entries[1].Details, rows[1]); diff != "" {
		t.Errorf("an inventory row shows the keys document's text cells (-want +got):\n%s", diff)
	}
}

func TestAuditHTMLSummaryCountsSeveritiesAccountsAndKeys(t *testing.T) {
	r := auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf)
	doc := parseHTML(t, renderAuditHTML(t, r))
	summary := byID(t, doc, "summary")

	got := map[string]string{}
	for _, card := range findAll(summary, withClass("li", "card")) {
		n := findAll(card, withClass("span", "n"))[0]
		label := findAll(card, withClass("span", "label"))[0]
		got[textOf(label)] = textOf(n)
	}
	want := map[string]string{"critical": "3", "high": "1", "medium": "4", "low": "3", "info": "1",
		"account": "1", "keys, 3 active": "4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary cards (-want +got):\n%s", diff)
	}
	text := textOf(summary)
	for _, line := range []string{r.Findings.Summary, r.Keys.Summary} {
		if !strings.Contains(text, line) {
			t.Errorf("summary lacks %q", line)
		}
	}
	times := findAll(doc, isTag("time"))
	var stamps []string
	for _, tm := range times {
		v, _ := attrOf(tm, "datetime")
		stamps = append(stamps, v)
	}
	if diff := cmp.Diff([]string{"2026-06-01T12:01:00Z", "2026-06-01T12:00:00Z"}, stamps); diff != "" {
		t.Errorf("generated and as-of times (-want +got):\n%s", diff)
	}
}

// withClass matches tag elements whose class list holds class.
func withClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		if n.Type != html.ElementNode || (tag != "" && n.Data != tag) {
			return false
		}
		v, _ := attrOf(n, "class")
		for c := range strings.FieldsSeq(v) {
			if c == class {
				return true
			}
		}
		return false
	}
}

func TestAuditHTMLLoadsNothingFromTheNetwork(t *testing.T) {
	page := renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf))
	doc := parseHTML(t, page)
	external := regexp.MustCompile(`(?i)^\s*(https?:|//|ftp:|data:text/html)`)
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "link", "img", "iframe", "object", "embed", "image", "use", "audio", "video", "source", "base", "form":
			t.Errorf("page has a <%s> element: it could load or send something", n.Data)
		}
		for _, a := range n.Attr {
			switch strings.ToLower(a.Key) {
			case "src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href", "background":
				if external.MatchString(a.Val) {
					t.Errorf("<%s %s=%q> references an external URL", n.Data, a.Key, a.Val)
				}
			}
		}
	}
	for _, style := range findAll(doc, isTag("style")) {
		if css := textOf(style); strings.Contains(css, "url(") || strings.Contains(css, "@import") {
			t.Errorf("inline CSS loads a resource: %s", css)
		}
	}
	for _, s := range findAll(doc, isTag("script")) {
		if _, ok := attrOf(s, "src"); ok {
			t.Error("a <script> loads its code from elsewhere")
		}
	}
	csp := contentSecurityPolicy(t, doc)
	if !strings.HasPrefix(csp, "default-src 'none';") {
		t.Errorf("CSP %q does not forbid loading by default", csp)
	}
}

func contentSecurityPolicy(t *testing.T, doc *html.Node) string {
	t.Helper()
	metas := findAll(doc, withAttr("meta", "http-equiv", "Content-Security-Policy"))
	if len(metas) != 1 {
		t.Fatalf("page has %d CSP meta elements, want 1", len(metas))
	}
	csp, _ := attrOf(metas[0], "content")
	return csp
}

// A CSP hash that does not match its element would leave the page without
// its style or its sorting script in every browser.
func TestAuditHTMLPolicyAdmitsExactlyItsOwnStyleAndScript(t *testing.T) {
	doc := parseHTML(t, renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf)))
	csp := contentSecurityPolicy(t, doc)
	for _, tag := range []string{"style", "script"} {
		elems := findAll(doc, isTag(tag))
		if len(elems) != 1 {
			t.Fatalf("page has %d <%s> elements, want 1", len(elems), tag)
		}
		sum := sha256.Sum256([]byte(textOf(elems[0])))
		want := tag + "-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q: the browser would block the page's own <%s>", csp, want, tag)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q admits any inline code", csp)
	}
}

func TestAuditHTMLEscapesHostileNames(t *testing.T) {
	const hostile = "<script>alert(1)</script>"
	const hostileAttr = `"><img src=x onerror=alert(2)>`
	inv := auditInventory()
	inv.Users = append(inv.Users, audit.User{Name: hostile, ARN: "arn:aws:iam::123456789012:user/" + hostileAttr,
		Created: daysAgo(300), Password: audit.No, MFA: audit.No, Admin: audit.No,
		Keys: []audit.Key{{Slot: 1, ID: exampleKeyID, Status: audit.KeyActive, Created: daysAgo(200),
			LastUsed: daysAgo(2), LastUsedService: hostile, LastUsedRegion: "eu-west-1"}}})
	r := auditHTMLOf([]audit.Inventory{inv}, auditAsOf)
	r.Title = "audit " + hostile
	page := renderAuditHTML(t, r)
	doc := parseHTML(t, page)

	if n := len(findAll(doc, isTag("script"))); n != 1 {
		t.Errorf("page has %d <script> elements, want only its own", n)
	}
	if n := len(findAll(doc, isTag("img"))); n != 0 {
		t.Errorf("a name became %d <img> elements", n)
	}
	for n := range doc.Descendants() {
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("<%s> has an event handler attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	}
	keys := textOf(byID(t, doc, "keys-table"))
	if !strings.Contains(keys, hostile) {
		t.Errorf("key inventory does not show the user name %q as text", hostile)
	}
	if !strings.Contains(string(page), "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the page source does not carry the name escaped")
	}
	users := findAll(byID(t, doc, "keys-table"), func(n *html.Node) bool {
		v, _ := attrOf(n, "title")
		return n.Data == "td" && strings.HasSuffix(v, hostileAttr)
	})
	if len(users) != 1 {
		t.Errorf("the user's ARN should survive intact in its cell's title; found %d cells", len(users))
	}
}

func TestAuditHTMLSaysWhenThereIsNothingToShow(t *testing.T) {
	r := AuditHTML{Title: "keywarden audit", Findings: AuditDocument(nil), Keys: KeysDocument(nil, nil, auditAsOf), AsOf: auditAsOf}
	doc := parseHTML(t, renderAuditHTML(t, r))
	for _, tc := range []struct{ section, want string }{
		{"findings", "No findings"},
		{"age", "No keys"},
		{"keys", "No keys"},
	} {
		section := byID(t, doc, tc.section)
		empty := findAll(section, withClass("p", "empty"))
		if len(empty) != 1 || !strings.HasPrefix(textOf(empty[0]), tc.want) {
			t.Errorf("section %s: want one %q message, got %d", tc.section, tc.want, len(empty))
		}
		if n := len(findAll(section, isTag("table"))) + len(findAll(section, isTag("svg"))); n != 0 {
			t.Errorf("section %s: an empty report still draws %d tables or charts", tc.section, n)
		}
	}
}

func TestAuditHTMLListsFindingsWorstFirst(t *testing.T) {
	findings := auditFindings()
	// Reverse: the page must order by severity whatever order it is given.
	for i, j := 0, len(findings)-1; i < j; i, j = i+1, j-1 {
		findings[i], findings[j] = findings[j], findings[i]
	}
	r := AuditHTML{Findings: AuditDocument(findings), Keys: KeysDocument(nil, nil, auditAsOf)}
	doc := parseHTML(t, renderAuditHTML(t, r))
	var sevs []string
	for _, row := range tableRows(byID(t, doc, "findings-table")) {
		sevs = append(sevs, row[0])
	}
	want := []string{"critical", "critical", "critical", "high", "medium", "medium", "medium", "medium", "low", "low", "low", "info"}
	if diff := cmp.Diff(want, sevs); diff != "" {
		t.Errorf("severity column (-want +got):\n%s", diff)
	}
}

func TestAuditHTMLShowsRemediationCommandsAsCode(t *testing.T) {
	doc := parseHTML(t, renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf)))
	var cmds []string
	for _, c := range findAll(byID(t, doc, "findings-table"), withClass("code", "cmd")) {
		cmds = append(cmds, textOf(c))
	}
	want := "aws iam update-access-key --user-name alice --access-key-id " + exampleKeyID + " --status Inactive"
	found := false
	for _, c := range cmds {
		found = found || c == want
		if strings.Contains(c, "`") {
			t.Errorf("command %q keeps its quoting backticks", c)
		}
	}
	if !found {
		t.Errorf("no <code> holds %q; commands: %q", want, cmds)
	}
}

func TestSplitRemedy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []remedyPart
	}{
		{"prose only", "review the user", []remedyPart{{Text: "review the user"}}},
		{"command between prose", "run `aws iam x` then wait",
			[]remedyPart{{Text: "run "}, {Text: "aws iam x", Code: true}, {Text: " then wait"}}},
		{"command at both ends", "`a``b`", []remedyPart{{Text: "a", Code: true}, {Text: "b", Code: true}}},
		{"unpaired backtick stays prose", "run `aws iam x", []remedyPart{{Text: "run `aws iam x"}}},
		{"empty command dropped", "a `` b", []remedyPart{{Text: "a "}, {Text: " b"}}},
		{"empty", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, splitRemedy(tc.in)); diff != "" {
				t.Errorf("splitRemedy(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// The inventory sorts age by number and last use by date: the cells carry
// machine values the script compares, unknown ones empty so they sort last.
func TestAuditHTMLInventoryCarriesSortValues(t *testing.T) {
	doc := parseHTML(t, renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf)))
	table := byID(t, doc, "keys-table")
	var types []string
	for _, th := range findAll(table, isTag("th")) {
		v, _ := attrOf(th, "data-type")
		types = append(types, textOf(th)+"="+v)
	}
	wantTypes := []string{"ACCOUNT=text", "USER=text", "KEY=text", "STATUS=text", "AGE=num", "LAST USED=date",
		"SERVICE=text", "REGION=text", "MFA=text", "ADMIN=text", "FINDINGS=text", "RETIRE=text"}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("column sort types (-want +got):\n%s", diff)
	}
	var got [][2]string
	for _, tr := range findAll(findAll(table, isTag("tbody"))[0], isTag("tr")) {
		var sorts [2]string
		i := 0
		for _, td := range findAll(tr, isTag("td")) {
			if v, ok := attrOf(td, "data-sort"); ok {
				sorts[i] = v
				i++
			}
		}
		got = append(got, sorts)
	}
	want := [][2]string{{"1500", "0"}, {"143", "2026-05-31T12:00:00Z"}, {"60", "0"}, {"200", "2026-01-02T12:00:00Z"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("age and last-used sort values (-want +got):\n%s", diff)
	}
}

// Without scripts the page is plain tables: the filter boxes (dead without
// their script) stay hidden, and nothing needs a script to show data.
func TestAuditHTMLIsReadableWithoutScripts(t *testing.T) {
	doc := parseHTML(t, renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf)))
	inputs := findAll(doc, isTag("input"))
	if len(inputs) != 2 {
		t.Fatalf("page has %d filter boxes, want 2 (findings, keys)", len(inputs))
	}
	for _, in := range inputs {
		hiddenByDefault := false
		for p := in; p != nil; p = p.Parent {
			_, hidden := attrOf(p, "hidden")
			hiddenByDefault = hiddenByDefault || hidden
		}
		if !hiddenByDefault {
			t.Errorf("filter box %v shows without the script that makes it work", in.Attr)
		}
	}
	if n := len(findAll(doc, isTag("button"))); n != 0 {
		t.Errorf("page markup has %d buttons; the script adds them, so they never show dead", n)
	}
	css := textOf(findAll(doc, isTag("style"))[0])
	for _, want := range []string{"@media (prefers-color-scheme:dark)", "@media print"} {
		if !strings.Contains(css, want) {
			t.Errorf("inline CSS lacks %s", want)
		}
	}
}
