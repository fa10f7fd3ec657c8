package respond

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
)

func testReport() *Report {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	key := awstest.FakeKeyID("exposed", 123456789012)
	return &Report{Incident: "inc-1", KeyID: key, AccountID: "123456789012", Applied: true,
		Owner:   &KeyOwner{User: "deploy", Status: "Inactive", Created: at.Add(-48 * time.Hour)},
		Rights:  &Rights{Admin: true, Dangerous: []string{"iam:CreateUser"}},
		Actions: []Action{{Kind: DeactivateKey, User: "deploy", KeyID: key, Applied: true, At: at}},
		Review: &Review{Since: at.Add(-time.Hour), Events: 1, Summary: Summary{Events: 1, First: at, Last: at},
			Created: []CreatedResource{{Kind: "iam-user", ID: "<script>alert(1)</script>", Call: "CreateUser", At: at, By: key,
				Cleanup: []string{"aws iam delete-user --user-name '<script>alert(1)</script>'"}}}},
		Journal: nil, Warnings: []string{}, GeneratedAt: at}
}

func TestRenderFormats(t *testing.T) {
	rep := testReport()
	var md, page, js bytes.Buffer
	for f, w := range map[string]*bytes.Buffer{"markdown": &md, "html": &page, "json": &js} {
		if err := Render(w, f, rep); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	for _, want := range []string{"# Incident inc-1", "## Containment (applied)", "- [ ] iam-user", "administrator: true"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	h := page.String()
	if strings.Contains(h, "<script>") || !strings.Contains(h, "&lt;script&gt;") {
		t.Errorf("a hostile name must be escaped in the page:\n%s", h)
	}
	if !strings.Contains(h, "<table>") || !strings.Contains(h, `default-src 'none'`) || strings.Contains(h, "http:") || strings.Contains(h, "https:") {
		t.Errorf("want a self-contained page with tables and a CSP that loads nothing:\n%s", h)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back["incident"] != "inc-1" {
		t.Errorf("json: %v, incident %v", err, back["incident"])
	}
}

func TestRenderCountsAgree(t *testing.T) {
	for n, want := range map[int]string{1: "1 event, 0 with errors;", 2: "2 events, 0 with errors;"} {
		rep := testReport()
		rep.Review.Events = n
		if md := Markdown(rep); !strings.Contains(md, "\n"+want) {
			t.Errorf("%d events: want %q in\n%s", n, want, md)
		}
	}
}
