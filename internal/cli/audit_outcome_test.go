package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/report"
)

// Audit's bad inputs and unreadable accounts and regions, end to end
// against moto: each run's exit status, its one line, and no report that
// claims an absence it did not check, nor a file half-written with -o.

// auditCase is one run of the table.
type auditCase struct {
	name string
	args []string
	code int
	// line is the one keywarden: line on stderr ("": none, as for findings).
	line string
	// out, when set, is the -o file; want and wantNot are what it (else
	// stdout) must hold and must not.
	out           string
	want, wantNot []string
}

func (c auditCase) run(t *testing.T) {
	t.Helper()
	args := c.args
	if c.out != "" {
		args = append(args, "-o", c.out)
	}
	stdout, stderr, code := auditMain(t, args...)
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "keywarden: ") {
			lines = append(lines, l)
		}
	}
	switch {
	case code != c.code:
		t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
	case c.line == "" && len(lines) != 0, c.line != "" && (len(lines) != 1 || !strings.HasPrefix(lines[0], c.line)):
		t.Errorf("stderr's keywarden: lines %q, want %q", lines, c.line)
	case strings.ContainsAny(stderr, "\r\x1b"):
		t.Errorf("progress drawn on a pipe: %q", stderr)
	}
	body := stdout
	if c.out != "" {
		data, err := os.ReadFile(c.out)
		switch {
		case c.code == ExitError && err == nil:
			t.Errorf("a failed run wrote %s", c.out)
		case c.code != ExitError && err != nil:
			t.Errorf("no report: %v", err)
		}
		body = string(data)
	}
	for _, w := range c.want {
		if !strings.Contains(body, w) {
			t.Errorf("report lacks %q:\n%s", w, body)
		}
	}
	for _, w := range c.wantNot {
		if strings.Contains(body, w) {
			t.Errorf("report holds %q:\n%s", w, body)
		}
	}
}

// requiredReadsOnly signs the rest of the test as an auditor holding the
// audit's required reads alone (moto enforcing IAM): every optional read,
// every region's, is denied.
func requiredReadsOnly(t *testing.T) {
	t.Helper()
	auditor := awstest.MotoWithAuth(t).CreateUserKey(t, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"iam:GenerateCredentialReport","iam:GetCredentialReport","iam:GetAccountAuthorizationDetails"],"Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
}

// TestAuditThatCannotReadARegionSaysSo: the region's reads and the other
// optional reads denied. Findings at --fail-on outrank the gaps, exit 1,
// but every format names what was not read; with none at --fail-on, and
// for the inventory and --diff, which never fail on known findings, exit 3.
func TestAuditThatCannotReadARegionSaysSo(t *testing.T) {
	requiredReadsOnly(t)
	// IAM's creation times and a report's as_of are whole seconds, and
	// --diff lists a key made in the second of as_of as new unless the
	// earlier report names it (audit.Diff); this auditor cannot read key
	// ids, so the earlier audit starts in the second after the key was
	// made, however fast or loaded the machine is.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev.json")
	if _, stderr, code := auditMain(t, "--regions", "us-east-1", "--format", "json", "-o", prev); code != ExitFindings {
		t.Fatalf("the earlier audit: exit %d\n%s", code, stderr)
	}
	region := "region us-east-1: ec2:DescribeInstances denied; "
	incomplete := "keywarden: incomplete: 9 regions or reads could not be read (the report names them)"
	for _, c := range []auditCase{
		{name: "text", args: []string{"--regions", "us-east-1"}, code: ExitFindings,
			want:    []string{"Not read, so what is above is incomplete:\n", "  " + region, "  cloudtrail:DescribeTrails: denied (add it to the audit policy)", "; incomplete: "},
			wantNot: []string{"no findings"}},
		{name: "no finding at --fail-on", args: []string{"--regions", "us-east-1", "--fail-on", "critical"}, code: ExitIncomplete, line: incomplete,
			want: []string{"  " + region, "; incomplete: 9 not read, listed above\n"}},
		{name: "json", args: []string{"--regions", "us-east-1", "--format", "json"}, out: filepath.Join(dir, "a.json"), code: ExitFindings,
			want: []string{`"check":"` + report.AuditIncompleteCheck + `"`, `"source":"region us-east-1"`}},
		{name: "jsonl", args: []string{"--regions", "us-east-1", "--format", "jsonl"}, code: ExitFindings,
			want: []string{`{"check":"` + report.AuditIncompleteCheck + `","title":"Not read: the audit is incomplete","severity":"info"`}},
		{name: "csv", args: []string{"--regions", "us-east-1", "--format", "csv"}, out: filepath.Join(dir, "a.csv"), code: ExitFindings,
			want: []string{"\n" + report.AuditIncompleteCheck + ",Not read: the audit is incomplete,info,123456789012,"}},
		{name: "sarif", args: []string{"--regions", "us-east-1", "--format", "sarif"}, out: filepath.Join(dir, "a.sarif"), code: ExitFindings,
			want: []string{`"executionSuccessful": false`, `"text": "not read: ` + region}},
		{name: "html", args: []string{"--regions", "us-east-1", "--format", "html"}, out: filepath.Join(dir, "a.html"), code: ExitFindings,
			want:    []string{`<section id="incomplete" class="incomplete" role="alert"`, "<strong>region us-east-1</strong>: ec2:DescribeInstances denied; "},
			wantNot: []string{"every check passed"}},
		{name: "keys", args: []string{"keys", "--regions", "us-east-1"}, code: ExitIncomplete, line: incomplete,
			want: []string{"Not read, so what is above is incomplete:\n", "  " + region}},
		{name: "diff", args: []string{"--regions", "us-east-1", "--diff", prev}, code: ExitIncomplete, line: incomplete,
			want: []string{"  " + region}},
		{name: "-o into no directory", args: []string{"--regions", "us-east-1", "--format", "json"}, out: filepath.Join(dir, "missing", "a.json"),
			code: ExitError, line: "keywarden: "},
		{name: "diff json", args: []string{"--regions", "us-east-1", "--diff", prev, "--format", "json"}, code: ExitIncomplete, line: incomplete,
			want: []string{"[]\n"}, wantNot: []string{report.AuditIncompleteCheck}},
	} {
		t.Run(c.name, c.run)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "a.json")); err == nil {
		var rows []map[string]any
		if err := json.Unmarshal(data, &rows); err != nil {
			t.Errorf("the json report is no longer an array of objects: %v", err)
		}
	}
}

// TestAuditOrgThatCannotReadAnAccountSaysSo: a member whose role cannot
// be assumed (AWS's AccessDenied, from a proxy: moto lets anyone assume
// any role) is a finding and a gap; the inventory exits 3 naming it. The
// member's OrganizationAccountAccessRole is info, trusting the
// management account.
func TestAuditOrgThatCannotReadAnAccountSaysSo(t *testing.T) {
	moto := awstest.Moto(t)
	members := moto.NewOrganization(t)
	dev, prod := members[0], members[1]
	t.Setenv("AWS_ENDPOINT_URL", moto.DenyAssumeRole(t, prod))
	out := filepath.Join(t.TempDir(), "org.json")
	for _, c := range []auditCase{
		{name: "findings", args: []string{"--org", "--regions", "us-east-1", "--format", "json"}, out: out, code: ExitFindings,
			want: []string{`"check":"KW-ORG-ACCOUNT-UNREAD"`, `"check":"` + report.AuditIncompleteCheck + `"`,
				`"source":"account ` + prod + ` (prod)"`,
				`"check":"KW-ROLE-TRUST-NO-EXTID","title":"Role trusts the Organization's management account","severity":"info","account_id":"` + dev + `"`},
			wantNot: []string{`"severity":"medium","account_id":"` + dev + `","resource":"arn:aws:iam::` + dev + `:role/OrganizationAccountAccessRole"`}},
		{name: "keys", args: []string{"keys", "--org", "--regions", "us-east-1"}, code: ExitIncomplete,
			line: "keywarden: incomplete: 1 of 3 accounts could not be read (the report names them)",
			want: []string{"  account " + prod + " (prod): not audited: assume role arn:aws:iam::" + prod + ":role/OrganizationAccountAccessRole"}},
	} {
		t.Run(c.name, c.run)
	}
}

// TestAuditBadRunsWriteNoFile: a run that fails (a bad flag, no rights)
// leaves no file at -o, not even a part.
func TestAuditBadRunsWriteNoFile(t *testing.T) {
	moto := awstest.MotoWithAuth(t)
	nobody := moto.CreateUserKey(t, "nobody")
	t.Setenv("AWS_ACCESS_KEY_ID", nobody.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", nobody.Secret.Reveal())
	dir := t.TempDir()
	for _, c := range []auditCase{
		{name: "bad flag", args: []string{"--fail-on", "severe"}, out: filepath.Join(dir, "a.json"), code: ExitError,
			line: `keywarden: --fail-on "severe": want one of`},
		{name: "denied", args: []string{"--regions", "us-east-1"}, out: filepath.Join(dir, "b.json"), code: ExitError,
			line: "keywarden: audit: read account: access denied: the caller lacks "},
	} {
		t.Run(c.name, c.run)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed runs left %v in the output directory", entries)
	}
}
