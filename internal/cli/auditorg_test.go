package cli

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

// auditMain runs `keywarden audit ARGS` through Main and returns stdout,
// stderr and the exit status.
func auditMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"audit"}, args...), Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), code
}

func decodeFindings(t *testing.T, stdout string) []audit.Finding {
	t.Helper()
	var findings []audit.Finding
	if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	return findings
}

// TestAuditOrgAgainstMoto runs `audit --org` through Main, the SDK and
// auditaws against moto: an organization with two member accounts. moto
// lets AssumeRole into any role ARN, so this proves the listing, the role
// assumption per member and that the findings of every account come out
// together; not that a real member role trusts the caller.
func TestAuditOrgAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	moto.NewOrganization(t)
	key := moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	stdout, stderr, code := auditMain(t, "--org", "--regions", "us-east-1", "--as-of", "+100d", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	accounts := map[string]bool{}
	onKey := false
	for _, f := range decodeFindings(t, stdout) {
		accounts[f.AccountID] = true
		onKey = onKey || (f.KeyID == key.KeyID && f.Check == "KW-KEY-ADMIN")
	}
	if len(accounts) < 2 {
		t.Errorf("findings name accounts %v, want more than one", accounts)
	}
	if !onKey {
		t.Errorf("no KW-KEY-ADMIN finding on the management account's key %s", key.KeyID)
	}
	if n := strings.Count(stderr, "credential report generated"); n != 3 {
		t.Errorf("stderr tells %d report ages, want 3 (one per account):\n%s", n, stderr)
	}
}

// TestAuditOrgReportsAnUnreadAccountAgainstMoto: a proxy refuses AssumeRole
// into one member, as AWS does when the role does not trust the caller. That
// account is a high finding naming --role-name and a stderr line; the others
// are still audited.
func TestAuditOrgReportsAnUnreadAccountAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	prod := moto.NewOrganization(t)[1]
	t.Setenv("AWS_ENDPOINT_URL", moto.DenyAssumeRole(t, prod))
	stdout, stderr, code := auditMain(t, "--org", "--role-name", "AuditRole", "--org-concurrency", "2",
		"--regions", "us-east-1", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	findings := decodeFindings(t, stdout)
	i := slices.IndexFunc(findings, func(f audit.Finding) bool { return f.Check == "KW-ORG-ACCOUNT-UNREAD" })
	if i < 0 {
		t.Fatalf("no KW-ORG-ACCOUNT-UNREAD finding:\n%s", stdout)
	}
	f := findings[i]
	if f.AccountID != prod || f.Severity.String() != "high" || f.Evidence["account_name"] != "prod" ||
		!strings.Contains(f.Evidence["error"].(string), "assume role arn:aws:iam::"+prod+":role/AuditRole (sts:AssumeRole)") ||
		!strings.Contains(f.Remediation, "AuditRole") {
		t.Errorf("unread finding = %+v", f)
	}
	if !slices.ContainsFunc(findings, func(f audit.Finding) bool { return f.AccountID == "123456789012" && f.Check != "KW-ORG-ACCOUNT-UNREAD" }) {
		t.Errorf("the management account has no findings:\n%s", stdout)
	}
	if !strings.Contains(stderr, "error: account "+prod+" (prod): not audited: assume role") ||
		!strings.Contains(stderr, "account 123456789012 (") {
		t.Errorf("stderr does not name the accounts:\n%s", stderr)
	}
}
