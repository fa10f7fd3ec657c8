package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

// incompleteResult is an organization audit that read one account but
// not a region of it, and could not read the other account at all.
func incompleteResult() audit.Result {
	mgmt := deployInventory()
	mgmt.Unread = []audit.Gap{{Source: "region eu-west-1",
		Reason: "ec2:DescribeInstances denied: instance profiles of EC2 instances unknown"}}
	accounts := []audit.Account{
		{ID: mgmt.AccountID, Name: "mgmt", Inventory: &mgmt},
		{ID: "444455556666", Name: "prod", Err: errors.New("assume role arn:aws:iam::444455556666:role/AuditRole (sts:AssumeRole): AccessDenied")},
	}
	return audit.Judge(accounts, audit.Options{Config: audit.Config{AsOf: auditAsOf}, Org: true, Role: "AuditRole"})
}

// TestAuditIncompleteGoldenFiles pins how every format names what an audit
// could not read.
func TestAuditIncompleteGoldenFiles(t *testing.T) {
	doc := AuditResultDocument(incompleteResult())
	for _, format := range []string{"text", "json", "jsonl", "csv", "sarif"} {
		t.Run(format, func(t *testing.T) {
			awstest.Golden(t, "audit-incomplete."+format+".golden", renderDoc(t, format, doc, Options{Version: "1.2.3"}))
		})
	}
}

// TestAuditIncompleteMachineRowsAreFindingShaped: json stays an array of
// finding-shaped objects (decodable as audit.Finding), the gaps among them
// as KW-AUDIT-INCOMPLETE rows at info.
func TestAuditIncompleteMachineRowsAreFindingShaped(t *testing.T) {
	res := incompleteResult()
	var got []audit.Finding
	if err := json.Unmarshal(renderDoc(t, "json", AuditResultDocument(res), Options{}), &got); err != nil {
		t.Fatal(err)
	}
	var gaps []string
	for _, f := range got {
		if f.Check == AuditIncompleteCheck {
			if f.Severity.String() != "info" || f.Evidence["source"] == nil || f.Evidence["reason"] == nil || f.AccountID == "" {
				t.Errorf("gap row %+v: want info, evidence source and reason, an account", f)
			}
			gaps = append(gaps, f.AccountID+" "+f.Evidence["source"].(string))
		}
	}
	want := []string{"123456789012 region eu-west-1", "444455556666 account 444455556666 (prod)"}
	if strings.Join(gaps, "|") != strings.Join(want, "|") || len(got) != len(res.Findings)+2 {
		t.Errorf("gap rows %q among %d rows, want %q after the %d findings", gaps, len(got), want, len(res.Findings))
	}
	if audit.Fails(res.Findings, 0) != (len(res.Findings) > 0) {
		t.Error("the gaps must not be findings: --fail-on never counts them")
	}
}

// TestAuditIncompleteSARIFNotifiesAndIsValid: the gaps are the
// invocation's notifications, with executionSuccessful false, and not
// results; the log stays valid SARIF 2.1.0.
func TestAuditIncompleteSARIFNotifiesAndIsValid(t *testing.T) {
	res := incompleteResult()
	out := renderDoc(t, "sarif", AuditResultDocument(res), Options{Version: "1.2.3"})
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSARIFSchema(t).Validate(inst); err != nil {
		t.Errorf("not valid SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful        *bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Level   string `json:"level"`
					Message struct{ Text string }
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct{ RuleID string } `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	inv := log.Runs[0].Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful == nil || *inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != 2 {
		t.Fatalf("invocations %+v: want one, unsuccessful, with two notifications", inv)
	}
	if n := inv[0].ToolExecutionNotifications[1]; n.Level != "error" || !strings.HasPrefix(n.Message.Text, "not read: account 444455556666 (prod): ") {
		t.Errorf("notification %+v", n)
	}
	for _, r := range log.Runs[0].Results {
		if r.RuleID == AuditIncompleteCheck {
			t.Error("a gap is a notification, not a result")
		}
	}
	if complete := renderDoc(t, "sarif", AuditResultDocument(judge(0, deployInventory())), Options{}); bytes.Contains(complete, []byte("invocations")) {
		t.Error("a complete audit's SARIF must stay as it was: no invocations")
	}
}

// TestAuditWithNoFindingsButGapsClaimsNoAbsence: the text and the page of
// an audit that found nothing in what it read say it is incomplete, never
// that every check passed.
func TestAuditWithNoFindingsButGapsClaimsNoAbsence(t *testing.T) {
	inv := audit.Inventory{AccountID: "123456789012", TrailsRead: true, RolesRead: true, InstancesRead: true, CustomerPoliciesRead: true, GroupsRead: true, PasswordPolicyRead: true, RootVirtualMFA: audit.No, ServerCertsRead: true,
		SupportRoles: []string{"support"}, SupportRolesRead: true,
		PasswordPolicy:    &audit.PasswordPolicy{MinimumLength: 14, RequireUppercase: true, RequireLowercase: true, RequireSymbols: true, RequireNumbers: true, ReusePrevention: 24, MaxAgeDays: 90},
		ReportGeneratedAt: auditAsOf, Root: &audit.Root{MFA: audit.Yes},
		Trails: deployInventory().Trails,
		Unread: []audit.Gap{{Source: "region eu-west-1", Reason: "not read (connection refused)"}}}
	inv = kept(inv)
	res := audit.Judge([]audit.Account{{ID: inv.AccountID, Inventory: &inv}}, audit.Options{Config: audit.Config{AsOf: auditAsOf}})
	if len(res.Findings) != 0 {
		t.Fatalf("fixture has findings: %v", res.Findings)
	}
	text := string(renderDoc(t, "text", AuditResultDocument(res), Options{}))
	want := "Not read, so what is above is incomplete:\n  region eu-west-1: not read (connection refused)\n\n" +
		"no findings in what was read; incomplete: 1 not read, listed above\n"
	if text != want {
		t.Errorf("text:\n%s\nwant:\n%s", text, want)
	}
	page := string(renderAuditHTML(t, AuditPage(res, "1.2.3", auditAsOf)))
	doc := parseHTML(t, []byte(page))
	banner := textOf(byID(t, doc, "incomplete"))
	if !strings.Contains(banner, "Incomplete: 1 not read") || !strings.Contains(banner, "region eu-west-1: not read (connection refused)") {
		t.Errorf("banner: %q", banner)
	}
	if strings.Contains(page, "every check passed") || !strings.Contains(page, "No findings in what was read") {
		t.Errorf("the page claims what it did not check")
	}
}

// TestDiffSkipsTheGapRowsOfAnEarlierReport: what an earlier audit could
// not read is not a finding it had.
func TestDiffSkipsTheGapRowsOfAnEarlierReport(t *testing.T) {
	prev, err := ReadAuditFile(auditJSONFile(t, incompleteResult()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range prev.Findings {
		if f.Check == AuditIncompleteCheck {
			t.Errorf("read back a gap as a finding: %+v", f)
		}
	}
	if len(prev.Findings) != len(incompleteResult().Findings) || !prev.AsOf.Equal(auditAsOf) {
		t.Errorf("read back %d findings as of %v", len(prev.Findings), prev.AsOf)
	}
}

func TestKeepIDsWhole(t *testing.T) {
	key := awstest.FakeKeyID("k", 123456789012)
	in := `<title>` + key + `</title><style>p{}</style><p title="` + key + `">key ` + key + `, role arn:aws:iam::123456789012:role/a-b.</p>` +
		`<svg><text>` + key + `</text></svg><script>var k="` + key + `"</script><code>--access-key-id ` + key + ` --x</code>`
	want := `<title>` + key + `</title><style>p{}</style><p title="` + key + `">key <span class="id">` + key + `</span>, ` +
		`role <span class="id">arn:aws:iam::123456789012:role/a-b</span>.</p><svg><text>` + key + `</text></svg>` +
		`<script>var k="` + key + `"</script><code>--access-key-id <span class="id">` + key + `</span> --x</code>`
	if got := string(KeepIDsWhole([]byte(in))); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAuditHTMLKeepsKeyIDsAndARNsOnOneLine(t *testing.T) {
	page := renderAuditHTML(t, auditHTMLOf([]audit.Inventory{auditInventory()}, auditAsOf))
	doc := parseHTML(t, page)
	ids := findAll(doc, withClass("span", IDClass))
	if len(ids) == 0 {
		t.Fatal("no key id or ARN kept whole")
	}
	css := textOf(findAll(doc, isTag("style"))[0])
	if !strings.Contains(css, ".id{white-space:nowrap}") || strings.Contains(css, "break-all") || strings.Contains(css, "break-word") {
		t.Errorf("the style must keep .id whole and break nothing mid-token:\n%s", css)
	}
}
