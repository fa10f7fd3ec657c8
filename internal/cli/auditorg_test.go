package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// TestAuditOrgAgainstMoto runs `audit --org` through Main, the SDK and
// auditaws.ReadOrganization against moto: an organization with two member
// accounts. moto lets AssumeRole into any role ARN, so this proves the
// listing, the role assumption per member and that the findings of every
// account come out together; not that a real member role trusts the caller.
func TestAuditOrgAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(cfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev", "prod"} {
		if _, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(name), Email: aws.String(name + "@example.com")}); err != nil {
			t.Fatal(err)
		}
	}
	key := moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	var out, errOut bytes.Buffer
	code := Main([]string{"audit", "--org", "--regions", "us-east-1", "--as-of", "+100d", "--format", "json"},
		Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	stdout, stderr := out.String(), errOut.String()
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	var findings []audit.Finding
	if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	accounts := map[string]bool{}
	onKey := false
	for _, f := range findings {
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

// TestAuditOrgReportsUnreadAccounts feeds a fixed organization read (the
// auditaws moto test covers a real AssumeRole failure): one account read, one
// not. The unread one must be a high finding and a stderr line, and the
// read one still judged.
func TestAuditOrgReportsUnreadAccounts(t *testing.T) {
	const unread = "210987654321"
	ad := fixedReader(nil, errors.New("single-account reader must not be used with --org"))
	ad.readOrg = func(_ context.Context, _ awsx.Options, org auditaws.OrgOptions) ([]auditaws.AccountResult, error) {
		if org.RoleName != "AuditRole" || org.Concurrency != 2 {
			t.Errorf("org options %+v, want role AuditRole, concurrency 2", org)
		}
		return []auditaws.AccountResult{
			{AccountID: "123456789012", Name: "mgmt", Inventory: testInventory(), Stats: auditaws.ReadStats{ReportAge: time.Hour}},
			{AccountID: unread, Name: "prod", Err: errors.New("assume role arn:aws:iam::210987654321:role/AuditRole (sts:AssumeRole):\n AccessDenied")},
		}, nil
	}
	tests := []struct {
		name string
		args []string
		want func(t *testing.T, stdout string)
	}{
		{"json carries the unread account's finding", []string{"--format", "json"}, func(t *testing.T, stdout string) {
			var findings []audit.Finding
			if err := json.Unmarshal([]byte(stdout), &findings); err != nil {
				t.Fatalf("decode: %v\n%s", err, stdout)
			}
			i := slices.IndexFunc(findings, func(f audit.Finding) bool { return f.Check == "KW-ORG-ACCOUNT-UNREAD" })
			if i < 0 {
				t.Fatalf("no KW-ORG-ACCOUNT-UNREAD finding:\n%s", stdout)
			}
			f := findings[i]
			if f.AccountID != unread || f.Resource != "arn:aws:iam::"+unread+":root" || f.Severity.String() != "high" ||
				f.Evidence["error"] != "assume role arn:aws:iam::210987654321:role/AuditRole (sts:AssumeRole): AccessDenied" ||
				!strings.Contains(f.Remediation, "AuditRole") {
				t.Errorf("unread finding = %+v", f)
			}
			if !slices.ContainsFunc(findings, func(f audit.Finding) bool { return f.AccountID == "123456789012" }) {
				t.Errorf("the account that was read has no findings:\n%s", stdout)
			}
		}},
		{"text summary counts the accounts", []string{}, func(t *testing.T, stdout string) {
			if !strings.Contains(stdout, "in 2 accounts; 1 of 2 accounts of the organization read") {
				t.Errorf("summary does not count the accounts:\n%s", stdout)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// +100d: the read account's 70-day-old key is then too old.
			args := append([]string{"--org", "--role-name", "AuditRole", "--org-concurrency", "2", "--as-of", "+100d"}, tt.args...)
			stdout, stderr, code := runAuditCLI(t, ad, args...)
			if code != ExitFindings {
				t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "error: account 210987654321 (prod): not audited: assume role") {
				t.Errorf("stderr does not name the unread account:\n%s", stderr)
			}
			if !strings.Contains(stderr, "account 123456789012 (mgmt): warning") && !strings.Contains(stderr, "warning: account 123456789012 (mgmt): ") {
				t.Errorf("stderr does not attribute the read account's warnings:\n%s", stderr)
			}
			tt.want(t, stdout)
		})
	}
}

func TestAuditOrgListingFailureStops(t *testing.T) {
	ad := fixedReader(nil, nil)
	ad.readOrg = func(context.Context, awsx.Options, auditaws.OrgOptions) ([]auditaws.AccountResult, error) {
		return nil, errors.New("list organization accounts: organizations:ListAccounts: AWSOrganizationsNotInUseException")
	}
	_, stderr, code := runAuditCLI(t, ad, "--org")
	if code != ExitError || !strings.Contains(stderr, "organizations:ListAccounts") {
		t.Errorf("exit %d, stderr %q; want 2 naming organizations:ListAccounts", code, stderr)
	}
}

func TestAuditOrgFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"--org", "--org-concurrency", "0"},
		{"--org", "--role-name", ""},
	} {
		_, stderr, code := runAuditCLI(t, fixedReader(testInventory(), nil), args...)
		if code != ExitError || !strings.Contains(stderr, args[1]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %s", args, code, stderr, args[1])
		}
	}
}

// TestAuditKeysOrgListsEveryAccountRead: `audit keys --org` lists the keys
// of every account that was read.
func TestAuditKeysOrgListsEveryAccountRead(t *testing.T) {
	other := testInventory()
	other.AccountID = "111122223333"
	other.Users[0].ARN = "arn:aws:iam::111122223333:user/deploy"
	other.Users[0].Keys[0].ID = awstest.FakeKeyID("other", 111122223333)
	ad := fixedReader(nil, nil)
	ad.readOrg = func(context.Context, awsx.Options, auditaws.OrgOptions) ([]auditaws.AccountResult, error) {
		return []auditaws.AccountResult{
			{AccountID: "123456789012", Inventory: testInventory()},
			{AccountID: "111122223333", Inventory: other},
			{AccountID: "444455556666", Err: errors.New("denied")},
		}, nil
	}
	stdout, stderr, code := runAuditCLI(t, ad, "keys", "--org", "--format", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{testInventory().Users[0].Keys[0].ID, other.Users[0].Keys[0].ID} {
		if !strings.Contains(stdout, want) {
			t.Errorf("key %s not listed:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "account 444455556666: not audited: denied") {
		t.Errorf("stderr does not name the unread account:\n%s", stderr)
	}
}
