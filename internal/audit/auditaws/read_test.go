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
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/iampolicy"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	scopedPolicy     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`
	createUserPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:GetUser"],"Resource":"*"}]}`
	sesPolicy        = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:*","Resource":"*"}]}`
)

// userView is what the tests compare of a user.
type userView struct {
	Admin     audit.Tri
	Dangerous []string
	Groups    []string
	Keys      []keyView
}

type keyView struct {
	Slot   int
	ID     string
	Status audit.KeyStatus
}

func view(u audit.User) userView {
	v := userView{Admin: u.Admin, Dangerous: u.Dangerous, Groups: u.Groups}
	for _, k := range u.Keys {
		v.Keys = append(v.Keys, keyView{Slot: k.Slot, ID: k.ID, Status: k.Status})
	}
	return v
}

// oneRegion keeps the regional reads of tests that are not about regions
// to the test region: moto answers for 34.
var oneRegion = []string{awstest.Region}

func readAccount(t *testing.T) (*audit.Inventory, auditaws.ReadStats) {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, stats, err := auditaws.ReadAccount(context.Background(), cfg, auditaws.Options{Regions: oneRegion})
	if err != nil {
		t.Fatalf("ReadAccount: %v", err)
	}
	return inv, stats
}

func TestReadAccountBuildsInventory(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("nokeys", scopedPolicy)
	a.User("boss", "")
	bossKey := a.Key("boss", iamtypes.StatusTypeActive)
	a.GroupWithInline("admins", awstest.AdminPolicy, "boss")
	a.User("hirer", createUserPolicy)
	hirer1 := a.Key("hirer", iamtypes.StatusTypeActive)
	hirer2 := a.Key("hirer", iamtypes.StatusTypeInactive)
	a.User("mailer", "")
	pol, err := a.IAM.CreatePolicy(context.Background(), &iam.CreatePolicyInput{
		PolicyName: aws.String("ses-sender"), PolicyDocument: aws.String(sesPolicy)})
	a.Must(pol, err)
	a.Must(a.IAM.AttachUserPolicy(context.Background(), &iam.AttachUserPolicyInput{
		UserName: aws.String("mailer"), PolicyArn: pol.Policy.Arn}))
	mailerKey := a.Key("mailer", iamtypes.StatusTypeActive)

	inv, stats := readAccount(t)

	got := map[string]userView{}
	for _, u := range inv.Users {
		got[u.Name] = view(u)
	}
	want := map[string]userView{
		"nokeys": {Admin: audit.No},
		"boss":   {Admin: audit.Yes, Dangerous: iampolicy.CapabilityNames(), Groups: []string{"admins"}, Keys: []keyView{{1, bossKey, audit.KeyActive}}},
		"hirer": {Admin: audit.No, Dangerous: []string{"iam:CreateUser"},
			Keys: []keyView{{1, hirer1, audit.KeyActive}, {2, hirer2, audit.KeyInactive}}},
		"mailer": {Admin: audit.No, Dangerous: []string{"ses:SendEmail", "ses:SendRawEmail"},
			Keys: []keyView{{1, mailerKey, audit.KeyActive}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if inv.AccountID != "123456789012" {
		t.Errorf("account = %q, want moto's 123456789012", inv.AccountID)
	}
	// moto's report has no <root_account> row: root comes from the summary.
	if diff := cmp.Diff(&audit.Root{MFA: audit.No}, inv.Root); diff != "" {
		t.Errorf("root (-want +got):\n%s", diff)
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("warnings: %q", inv.Warnings)
	}
	if inv.ReportGeneratedAt.IsZero() || stats.ReportAge <= 0 {
		t.Errorf("report generated %v, age %v: want both known", inv.ReportGeneratedAt, stats.ReportAge)
	}
	// A handful of account-wide calls, one page of details (customer
	// managed policies included), one ListAccessKeys per user with keys.
	wantCalls := map[string]int{
		"iam:GenerateCredentialReport": 1, "iam:GetCredentialReport": 1, "iam:GetAccountSummary": 1,
		"iam:GetAccountAuthorizationDetails": 1, "iam:ListAccessKeys": 3,
		"iam:GetAccountPasswordPolicy": 1, "iam:ListVirtualMFADevices": 1, "iam:ListServerCertificates": 1,
		"iam:ListEntitiesForPolicy": 1,
	}
	// Only IAM's calls are compared here: the other readers (trails,
	// instances, embedded keys) have their own tests.
	iamCalls, iamTotal := iamOnly(stats.Calls)
	if diff := cmp.Diff(wantCalls, iamCalls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if iamTotal != 11 {
		t.Errorf("total IAM calls = %d, want 11", iamTotal)
	}
}

func TestReadAccountCallsGrowWithKeyHoldersOnly(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	const holders, idle = 6, 9
	for i := range holders {
		name := "holder" + string(rune('a'+i))
		a.User(name, "")
		a.Key(name, iamtypes.StatusTypeActive)
	}
	for i := range idle {
		a.User("idle"+string(rune('a'+i)), scopedPolicy)
	}
	_, stats := readAccount(t)
	// generate + get report + summary + one details page + one list per holder
	if _, total := iamOnly(stats.Calls); total != 8+holders {
		t.Errorf("total IAM calls = %d (%v), want %d", total, stats.Calls, 8+holders)
	}
}

func TestReadAccountWithoutKeyIDsCostsNoCallPerUser(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	for i := range 5 {
		name := "holder" + string(rune('a'+i))
		a.User(name, "")
		a.Key(name, iamtypes.StatusTypeActive)
	}
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, stats, err := auditaws.ReadAccount(context.Background(), cfg, auditaws.Options{Regions: oneRegion, NoKeyIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, total := iamOnly(stats.Calls); total != 8 {
		t.Errorf("IAM calls = %d (%v), want 8 (report, summary, one details page, password policy, virtual MFA devices, "+
			"server certificates, support roles)", total, stats.Calls)
	}
	for _, u := range inv.Users {
		if len(u.Keys) != 1 || u.Keys[0].ID != "" || u.Keys[0].Slot != 1 {
			t.Errorf("user %s: want one key known by slot 1 only, got %+v", u.Name, u.Keys)
		}
	}
	if len(inv.Warnings) != 0 {
		t.Errorf("skipping key ids by choice is not a warning: %q", inv.Warnings)
	}
}

// iamOnly keeps the IAM operations of a call count, and their total.
func iamOnly(calls map[string]int) (map[string]int, int) {
	out, total := map[string]int{}, 0
	for op, n := range calls {
		if strings.HasPrefix(op, "iam:") {
			out[op] = n
			total += n
		}
	}
	return out, total
}

func TestReadAccountNamesMissingRequiredAction(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	auditor := s.CreateUserKey(t, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"iam:GenerateCredentialReport","iam:GetCredentialReport","iam:GetAccountSummary","iam:ListAccessKeys"],"Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, stats, err := auditaws.ReadAccount(context.Background(), cfg, auditaws.Options{Regions: oneRegion})
	if !errors.Is(err, awsx.ErrAccessDenied) {
		t.Fatalf("err = %v, want ErrAccessDenied", err)
	}
	var denied *auditaws.AccessDeniedError
	if !errors.As(err, &denied) || !cmp.Equal(denied.Actions, []string{"iam:GetAccountAuthorizationDetails"}) {
		t.Errorf("denied actions = %v, want only iam:GetAccountAuthorizationDetails", denied)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "iam:GetAccountAuthorizationDetails") {
		t.Errorf("error %q: want one line naming the action", msg)
	}
	if stats.Calls["iam:GetAccountAuthorizationDetails"] != 1 {
		t.Errorf("calls = %v: a denial must not be retried", stats.Calls)
	}
}

func TestReadAccountOptionalReadsDeniedAreUnknown(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	holder := s.CreateUserKey(t, "holder")
	auditor := s.CreateUserKey(t, "auditor", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"iam:GenerateCredentialReport","iam:GetCredentialReport","iam:GetAccountAuthorizationDetails"],"Resource":"*"}]}`)
	t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
	inv, _ := readAccount(t)
	if inv.Root != nil {
		t.Errorf("root = %+v, want nil (unknown) without iam:GetAccountSummary", inv.Root)
	}
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			if k.ID != "" {
				t.Errorf("user %s key id %s: want unknown without iam:ListAccessKeys", u.Name, k.ID)
			}
		}
		if len(u.Keys) != 1 {
			t.Errorf("user %s has %d keys, want the report's 1", u.Name, len(u.Keys))
		}
	}
	warnings := strings.Join(inv.Warnings, "\n")
	for _, action := range []string{"iam:GetAccountSummary", "iam:ListAccessKeys"} {
		if strings.Count(warnings, action) != 1 {
			t.Errorf("warnings %q: want exactly one naming %s", inv.Warnings, action)
		}
	}
	if strings.Contains(warnings, holder.KeyID) {
		t.Errorf("warnings name a key id the reader could not have read")
	}
	for _, action := range []string{"iam:GetAccountSummary", "iam:ListAccessKeys"} {
		if !slices.ContainsFunc(inv.Unread, func(g audit.Gap) bool { return g.Source == action && strings.HasPrefix(g.Reason, "denied") }) {
			t.Errorf("unread %q: want %s named as denied", inv.Unread, action)
		}
	}
}

func TestReadAccountHonoursCancellation(t *testing.T) {
	awstest.Moto(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := auditaws.ReadAccount(ctx, cfg, auditaws.Options{Regions: oneRegion}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// throttleFirst proxies to moto and answers each operation's first request
// with IAM's Throttling error.
func throttleFirst(t *testing.T, motoURL string) string {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		action := form.Get("Action")
		jsonProtocol := action == ""
		if jsonProtocol { // JSON (X-Amz-Target) or REST-JSON (path) protocols
			action = r.Header.Get("X-Amz-Target") + " " + r.Method + " " + r.URL.Path
		}
		mu.Lock()
		first := !seen[action]
		seen[action] = true
		mu.Unlock()
		if first && jsonProtocol {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.Header().Set("X-Amzn-Errortype", "ThrottlingException")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
			return
		}
		if first {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestReadAccountRetriesThrottling(t *testing.T) {
	s := awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("alice", "")
	a.Key("alice", iamtypes.StatusTypeActive)
	t.Setenv("AWS_ENDPOINT_URL", throttleFirst(t, s.URL))
	t.Setenv("AWS_ENDPOINT_URL_ACCESSANALYZER", throttleFirst(t, os.Getenv("AWS_ENDPOINT_URL_ACCESSANALYZER")))
	inv, stats := readAccount(t)
	if len(inv.Users) != 1 || inv.Users[0].Keys[0].ID == "" || len(inv.Warnings) != 0 {
		t.Fatalf("inventory after throttling: %+v", inv)
	}
	// Every operation was throttled once and retried once; attempts count.
	want := map[string]int{
		"iam:GenerateCredentialReport": 2, "iam:GetCredentialReport": 2, "iam:GetAccountSummary": 2,
		"iam:GetAccountAuthorizationDetails": 2, "iam:ListAccessKeys": 2,
		"iam:GetAccountPasswordPolicy": 2, "iam:ListVirtualMFADevices": 2, "iam:ListServerCertificates": 2,
		"iam:ListEntitiesForPolicy": 2,
	}
	iamCalls, _ := iamOnly(stats.Calls)
	if diff := cmp.Diff(want, iamCalls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// The other services' reads were throttled too, and retried: at
	// least two attempts each, and no warning above.
	for op, n := range stats.Calls {
		if !strings.HasPrefix(op, "iam:") && n < 2 {
			t.Errorf("%s: %d attempts, want a throttled one and a retry", op, n)
		}
	}
}
