package auditaws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

func loadConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestReadOrganizationReadsEveryAccount: moto lets AssumeRole into any role
// ARN (it neither checks that the role exists nor its trust policy), so this
// proves the listing, the per-account AssumeRole and that each member is read
// with its own credentials (moto keeps IAM state per account: the user made
// in the management account must not show up in the members). It does not
// prove that a real OrganizationAccountAccessRole would trust the caller.
func TestReadOrganizationReadsEveryAccount(t *testing.T) {
	s := awstest.Moto(t)
	members := s.NewOrganization(t)
	key := s.CreateUserKey(t, "mgmt-admin", awstest.AdminPolicy)
	progress := &auditaws.Progress{}
	results, err := auditaws.ReadOrganization(context.Background(), loadConfig(t), auditaws.OrgOptions{Concurrency: 2,
		Options: auditaws.Options{Regions: oneRegion, Progress: progress}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := progress.String(), "audit read: accounts 3/3, users 1, regions 3"; got != want {
		t.Errorf("progress %q, want %q", got, want)
	}
	var ids []string
	for _, r := range results {
		ids = append(ids, r.ID)
		if r.Err != nil {
			t.Errorf("account %s (%s): %v", r.ID, r.Name, r.Err)
			continue
		}
		if r.Inventory.AccountID != r.ID {
			t.Errorf("account %s read as %q", r.ID, r.Inventory.AccountID)
		}
		if r.Inventory.ReportGeneratedAt.IsZero() || r.ReportAge == 0 {
			t.Errorf("account %s: credential report at %v, %v old; want one read", r.ID, r.Inventory.ReportGeneratedAt, r.ReportAge)
		}
		if r.Inventory.OrgManagement != motoAccount {
			t.Errorf("account %s: management account %q, want %s (organizations:DescribeOrganization)", r.ID, r.Inventory.OrgManagement, motoAccount)
		}
		hasUser := slices.ContainsFunc(r.Inventory.Users, func(u audit.User) bool { return u.ARN == key.ARN })
		if mgmt := r.ID == motoAccount; hasUser != mgmt {
			t.Errorf("account %s: has %s = %v, want %v (each account must be read with its own credentials)", r.ID, key.User, hasUser, mgmt)
		}
	}
	want := append([]string{motoAccount}, members...)
	slices.Sort(want)
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("accounts read = %v, want %v", ids, want)
	}
}

// motoAccount is the account moto serves to any credentials it did not issue.
const motoAccount = "123456789012"

// TestReadOrganizationReportsAnAccountItCannotAssumeInto: moto cannot refuse
// an AssumeRole, so a proxy answers AssumeRole into one member's role with
// the AccessDenied AWS sends when the role does not trust the caller. That
// account alone must fail, named; the others must still be read.
func TestReadOrganizationReportsAnAccountItCannotAssumeInto(t *testing.T) {
	s := awstest.Moto(t)
	members := s.NewOrganization(t)
	denied := members[1]
	t.Setenv("AWS_ENDPOINT_URL", s.DenyAssumeRole(t, denied))
	results, err := auditaws.ReadOrganization(context.Background(), loadConfig(t), auditaws.OrgOptions{RoleName: "AuditRole", Options: auditaws.Options{Regions: oneRegion}})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("got %d results, want 3", len(results))
	}
	for _, r := range results {
		if r.ID != denied {
			if r.Err != nil || r.Inventory == nil {
				t.Errorf("account %s: err %v, inventory %v; want it read", r.ID, r.Err, r.Inventory != nil)
			}
			continue
		}
		if r.Err == nil || r.Inventory != nil {
			t.Fatalf("account %s: err nil; want the AssumeRole failure", denied)
		}
		for _, want := range []string{"arn:aws:iam::" + denied + ":role/AuditRole", "sts:AssumeRole", "AccessDenied"} {
			if !strings.Contains(r.Err.Error(), want) {
				t.Errorf("error %q does not name %q", r.Err, want)
			}
		}
	}
}

// TestReadOrganizationOutsideAnOrganization: a caller in no organization
// gets one error naming the action. (AWS answers
// AWSOrganizationsNotInUseException; moto answers an empty list, which
// exercises the no-ACTIVE-account path.)
func TestReadOrganizationOutsideAnOrganization(t *testing.T) {
	awstest.Moto(t)
	_, err := auditaws.ReadOrganization(context.Background(), loadConfig(t), auditaws.OrgOptions{Options: auditaws.Options{Regions: oneRegion}})
	if err == nil || !strings.Contains(err.Error(), "organizations:ListAccounts") {
		t.Fatalf("err = %v, want one naming organizations:ListAccounts", err)
	}
	if errors.Is(err, awsx.ErrAccessDenied) {
		t.Errorf("not being in an organization is not a denial: %v", err)
	}
}

// TestReadOneAccount: without Org, Read reads the caller's account alone,
// named by its id.
func TestReadOneAccount(t *testing.T) {
	awstest.Moto(t)
	accounts, err := auditaws.Read(context.Background(), loadConfig(t), auditaws.Scope{OrgOptions: auditaws.OrgOptions{Options: auditaws.Options{Regions: oneRegion}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 1 || accounts[0].ID != motoAccount || accounts[0].Inventory == nil || accounts[0].ReportAge == 0 {
		t.Fatalf("accounts = %+v, want %s read", accounts, motoAccount)
	}
}
