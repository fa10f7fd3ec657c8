package respondaws_test

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
	"strconv"
	"strings"
	"testing"
	"time"

	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
)

func newIAM(t *testing.T) *respondaws.IAM {
	t.Helper()
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return respondaws.New(cfg)
}

// TestKeyOwnerOfAnotherUsersKey identifies a key of alice while signing as
// someone else, and follows its status.
func TestKeyOwnerOfAnotherUsersKey(t *testing.T) {
	awstest.Moto(t)
	acct := awstest.NewIAMAccount(t)
	acct.User("responder", "")
	acct.User("alice", "")
	acct.Key("alice", iamtypes.StatusTypeActive)
	id := acct.Key("alice", iamtypes.StatusTypeInactive)
	responder := newIAM(t)
	ctx := context.Background()

	got, err := responder.KeyOwner(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Created.IsZero() || time.Since(got.Created) > time.Hour {
		t.Errorf("Created = %v, want about now", got.Created)
	}
	want := respond.KeyOwner{User: "alice", Account: motoAccount, Status: "Inactive"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(respond.KeyOwner{}, "Created")); diff != "" {
		t.Errorf("KeyOwner (-want +got):\n%s", diff)
	}

	if err := responder.SetActive(ctx, "alice", id, true); err != nil {
		t.Fatal(err)
	}
	if got, err := responder.KeyOwner(ctx, id); err != nil || got.Status != "Active" {
		t.Errorf("after reactivation: KeyOwner = %+v, %v; want Status Active", got, err)
	}
}

func TestKeyOwnerOfUnknownKeyIsErrNoSuchKey(t *testing.T) {
	awstest.Moto(t)
	_, err := newIAM(t).KeyOwner(context.Background(), awstest.FakeKeyID("respond-unknown", 123456789012))
	if !errors.Is(err, respond.ErrNoSuchKey) {
		t.Errorf("err = %v, want ErrNoSuchKey", err)
	}
}

const (
	adminPolicy    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	getUserOnly    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`
	deployRoleARN  = "arn:aws:iam::" + motoAccount + ":role/deploy"
	assumeDeploy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + deployRoleARN + `"}]}`
	boundaryName   = "Boundary"
	createUserName = "CreateUsers"
)

// TestUserRights reads a user's policies from every place IAM attaches
// them, and resolves them.
func TestUserRights(t *testing.T) {
	boundaryARN := "arn:aws:iam::" + motoAccount + ":policy/" + boundaryName
	tests := []struct {
		name string
		// managed: the server must know AWS managed policies.
		managed bool
		// boundary is set on the user by a proxy rewriting GetUser: moto
		// keeps permissions boundaries for roles only.
		boundary string
		setup    func(a *awstest.IAMAccount)
		want     respond.Rights
	}{
		{"admin through a group's inline policy", false, "", func(a *awstest.IAMAccount) {
			a.User("u", "")
			a.GroupWithInline("admins", adminPolicy, "u")
		}, respond.Rights{Admin: true, Groups: []string{"admins"}, Dangerous: allCapabilities, AssumableRoles: []string{"*"}}},
		{"a scoped inline policy is not admin", false, "", func(a *awstest.IAMAccount) {
			a.User("u", scopedPolicy)
		}, respond.Rights{}},
		{"a boundary removes admin", false, boundaryARN, func(a *awstest.IAMAccount) {
			a.User("u", adminPolicy)
			a.ManagedPolicy(boundaryName, getUserOnly)
		}, respond.Rights{Boundary: boundaryARN}},
		{"a boundary allowing everything keeps admin", false, boundaryARN, func(a *awstest.IAMAccount) {
			a.User("u", adminPolicy)
			a.ManagedPolicy(boundaryName, adminPolicy)
		}, respond.Rights{Admin: true, Boundary: boundaryARN, Dangerous: allCapabilities, AssumableRoles: []string{"*"}}},
		{"a role it may assume", false, "", func(a *awstest.IAMAccount) {
			a.User("u", assumeDeploy)
		}, respond.Rights{AssumableRoles: []string{deployRoleARN}}},
		{"a dangerous action from an attached customer managed policy", false, "", func(a *awstest.IAMAccount) {
			a.User("u", "")
			a.Attach("u", a.ManagedPolicy(createUserName, createUserPolicy))
		}, respond.Rights{Dangerous: []string{"iam:CreateUser"}}},
		{"an AWS managed policy read from IAM", true, "", func(a *awstest.IAMAccount) {
			a.User("u", "")
			a.Attach("u", "arn:aws:iam::aws:policy/IAMFullAccess")
		}, respond.Rights{Dangerous: []string{"iam:AttachUserPolicy", "iam:CreateAccessKey", "iam:CreateUser", "iam:PassRole"}}},
		{"AdministratorAccess attached", true, "", func(a *awstest.IAMAccount) {
			a.User("u", "")
			a.Attach("u", "arn:aws:iam::aws:policy/AdministratorAccess")
		}, respond.Rights{Admin: true, Dangerous: allCapabilities, AssumableRoles: []string{"*"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := awstest.Moto(t)
			if tt.managed {
				s = awstest.MotoWithManagedPolicies(t)
			}
			tt.setup(awstest.NewIAMAccount(t))
			if tt.boundary != "" {
				t.Setenv("AWS_ENDPOINT_URL", withUserBoundary(t, s.URL, tt.boundary))
			}
			got := userRights(t, newIAM(t), "u")
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("UserRights (-want +got):\n%s", diff)
			}
		})
	}
}

func userRights(t *testing.T, a *respondaws.IAM, user string) respond.Rights {
	t.Helper()
	p, err := a.UserPolicies(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return respond.Assess(p)
}

// withUserBoundary proxies to moto and adds a permissions boundary to every
// GetUser answer, in the element AWS returns it in.
func withUserBoundary(t *testing.T, motoURL, boundary string) string {
	t.Helper()
	target, err := url.Parse(motoURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	director := proxy.Director
	proxy.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Accept-Encoding") // keep the answer editable
	}
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if bytes.Contains(body, []byte("<GetUserResult>")) {
			body = bytes.Replace(body, []byte("</User>"), []byte("<PermissionsBoundary>"+
				"<PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>"+
				"<PermissionsBoundaryArn>"+boundary+"</PermissionsBoundaryArn></PermissionsBoundary></User>"), 1)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// allCapabilities is every dangerous capability: what "*" on "*" grants.
var allCapabilities = []string{"ec2:RunInstances", "iam:AttachUserPolicy", "iam:CreateAccessKey", "iam:CreateUser",
	"iam:PassRole", "s3:*", "ses:SendEmail", "ses:SendRawEmail"}

// TestUserRightsListsUnreadablePolicies: a responder that may not read
// managed policies still gets an answer, which names what it could not read.
func TestUserRightsListsUnreadablePolicies(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	boss := s.CreateUserKey(t, "boss", adminPolicy)
	signAs(t, boss)
	a := awstest.NewIAMAccount(t)
	a.User("u", "")
	arn := a.ManagedPolicy(createUserName, createUserPolicy)
	a.Attach("u", arn)
	a.GroupWithInline("ops", getUserOnly, "u")
	noPolicyReads := strings.NewReplacer(`"iam:GetPolicy",`, "", `"iam:GetPolicyVersion",`, "").
		Replace(forMoto(t, readDoc(t, "docs/policies/respond.json")))
	signAs(t, s.CreateUserKey(t, "responder", noPolicyReads))

	got := userRights(t, newIAM(t), "u")
	if len(got.Unknown) != 1 || !strings.HasPrefix(got.Unknown[0], arn+" ") || !strings.Contains(got.Unknown[0], "iam:GetPolicy") {
		t.Errorf("Unknown = %q, want %s named with the denied iam:GetPolicy", got.Unknown, arn)
	}
	if got.Admin || len(got.Dangerous) != 0 || !slices.Equal(got.Groups, []string{"ops"}) {
		t.Errorf("rights = %+v, want the groups read and nothing granted", got)
	}
}

// TestRespondPolicyIsNarrow judges the documented responder policy with the
// audit's own engine: not admin, and the policy attachment it allows is tied
// to the quarantine policy by a condition.
func TestRespondPolicyIsNarrow(t *testing.T) {
	set := iampolicy.PolicySet{Inline: []iampolicy.InlinePolicy{{Name: "respond", Document: readDoc(t, "docs/policies/respond.json")}}}
	eff, err := iampolicy.Resolve(set, iampolicy.Catalog{})
	if err != nil {
		t.Fatal(err)
	}
	if r := iampolicy.IsAdmin(eff); r.Admin || r.Broad {
		t.Errorf("the responder policy is admin or broad: %+v", r)
	}
	g, ok := iampolicy.Grants(eff, "iam:AttachUserPolicy", false)
	if !ok || !g.Conditional {
		t.Errorf("iam:AttachUserPolicy: granted %v, conditional %v; want granted only under a condition", ok, g.Conditional)
	}
	if _, ok := iampolicy.Grants(eff, "iam:AttachRolePolicy", false); ok {
		t.Errorf("the responder policy grants iam:AttachRolePolicy")
	}
}
