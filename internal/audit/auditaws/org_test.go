package auditaws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// newOrganization creates an organization in moto with the caller's account
// (moto's 123456789012) as management account and two member accounts, and
// returns the members' ids.
func newOrganization(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	org := organizations.NewFromConfig(cfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatalf("create organization: %v", err)
	}
	var members []string
	for _, name := range []string{"dev", "prod"} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatalf("create account %s: %v", name, err)
		}
		members = append(members, aws.ToString(out.CreateAccountStatus.AccountId))
	}
	return members
}

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
	members := newOrganization(t)
	key := s.CreateUserKey(t, "mgmt-admin", awstest.AdminPolicy)
	results, err := auditaws.ReadOrganization(context.Background(), loadConfig(t), auditaws.OrgOptions{Concurrency: 2, Options: auditaws.Options{Regions: oneRegion}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range results {
		ids = append(ids, r.AccountID)
		if r.Err != nil {
			t.Errorf("account %s (%s): %v", r.AccountID, r.Name, r.Err)
			continue
		}
		if r.Inventory.AccountID != r.AccountID {
			t.Errorf("account %s read as %q", r.AccountID, r.Inventory.AccountID)
		}
		if r.Stats.Total == 0 {
			t.Errorf("account %s: no calls counted", r.AccountID)
		}
		hasUser := slices.ContainsFunc(r.Inventory.Users, func(u audit.User) bool { return u.ARN == key.ARN })
		if mgmt := r.AccountID == motoAccount; hasUser != mgmt {
			t.Errorf("account %s: has %s = %v, want %v (each account must be read with its own credentials)", r.AccountID, key.User, hasUser, mgmt)
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
	members := newOrganization(t)
	denied := members[1]
	t.Setenv("AWS_ENDPOINT_URL", denyAssumeRole(t, s.URL, denied))
	results, err := auditaws.ReadOrganization(context.Background(), loadConfig(t), auditaws.OrgOptions{RoleName: "AuditRole", Options: auditaws.Options{Regions: oneRegion}})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("got %d results, want 3", len(results))
	}
	for _, r := range results {
		if r.AccountID != denied {
			if r.Err != nil || r.Inventory == nil {
				t.Errorf("account %s: err %v, inventory %v; want it read", r.AccountID, r.Err, r.Inventory != nil)
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

// denyAssumeRole proxies to moto and answers AssumeRole into account's
// roles with STS's AccessDenied.
func denyAssumeRole(t *testing.T, motoURL, account string) string {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if form.Get("Action") == "AssumeRole" && strings.Contains(form.Get("RoleArn"), ":"+account+":") {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform sts:AssumeRole</Message></Error><RequestId>x</RequestId></ErrorResponse>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
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
