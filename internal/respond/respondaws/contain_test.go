package respondaws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/respond/respondaws"
)

// TestPutRevokeSessionsWritesTheDenyAndReadsItBack checks the document IAM
// stores, statement by statement, and the cutoff read back.
func TestPutRevokeSessionsWritesTheDenyAndReadsItBack(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("alice", "")
	responder := newIAM(t)
	ctx := context.Background()
	before := time.Date(2025, 3, 9, 14, 7, 31, 250_000_000, time.FixedZone("CET", 3600))
	wantCutoff := time.Date(2025, 3, 9, 13, 7, 32, 0, time.UTC) // UTC, rounded up

	if err := responder.PutRevokeSessions(ctx, "alice", before); err != nil {
		t.Fatal(err)
	}
	out, err := a.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{
		UserName: aws.String("alice"), PolicyName: aws.String(respond.RevokePolicyName)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := iampolicy.Parse(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	want := []iampolicy.Statement{{Effect: iampolicy.Deny, Action: []string{"*"}, Resource: []string{"*"},
		Condition: iampolicy.Condition{"DateLessThan": {"aws:TokenIssueTime": {"2025-03-09T13:07:32Z"}}}}}
	if diff := cmp.Diff(want, doc.Statements); diff != "" {
		t.Errorf("stored statements (-want +got):\n%s", diff)
	}
	got, ok, err := responder.RevokeSessionsPolicy(ctx, "alice")
	if err != nil || !ok || !got.Equal(wantCutoff) {
		t.Errorf("RevokeSessionsPolicy = %v, %v, %v; want %v, true, nil", got, ok, err, wantCutoff)
	}
}

// TestRevokeSessionsIsIdempotent replays put and delete as a resumed run
// would.
func TestRevokeSessionsIsIdempotent(t *testing.T) {
	awstest.Moto(t)
	awstest.NewIAMAccount(t).User("alice", "")
	responder := newIAM(t)
	ctx := context.Background()
	first := time.Date(2025, 3, 9, 13, 0, 0, 0, time.UTC)
	later := first.Add(time.Hour)

	for _, before := range []time.Time{first, first, later} {
		if err := responder.PutRevokeSessions(ctx, "alice", before); err != nil {
			t.Fatalf("put %v: %v", before, err)
		}
	}
	got, ok, err := responder.RevokeSessionsPolicy(ctx, "alice")
	if err != nil || !ok || !got.Equal(later) {
		t.Errorf("after three puts: %v, %v, %v; want the last cutoff %v", got, ok, err, later)
	}
	for i := range 2 {
		if err := responder.DeleteRevokeSessions(ctx, "alice"); err != nil {
			t.Fatalf("delete #%d: %v", i+1, err)
		}
	}
	if _, ok, err := responder.RevokeSessionsPolicy(ctx, "alice"); err != nil || ok {
		t.Errorf("after delete: ok %v, err %v; want no policy", ok, err)
	}
}

// TestRevokeSessionsPolicyRejectsAnotherDocument: a policy that merely has
// the name is not taken for a revocation.
func TestRevokeSessionsPolicyRejectsAnotherDocument(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	a.User("alice", "")
	ctx := context.Background()
	a.Must(a.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"),
		PolicyName: aws.String(respond.RevokePolicyName), PolicyDocument: aws.String(adminPolicy)}))
	if _, ok, err := newIAM(t).RevokeSessionsPolicy(ctx, "alice"); err == nil || ok {
		t.Errorf("RevokeSessionsPolicy of an allow-all policy: ok %v, err %v; want an error", ok, err)
	}
}

// TestQuarantineAttachAndDetach uses AWS's own quarantine policy, which the
// managed-policy moto serves.
func TestQuarantineAttachAndDetach(t *testing.T) {
	awstest.MotoWithManagedPolicies(t)
	a := awstest.NewIAMAccount(t)
	a.User("alice", "")
	responder := newIAM(t)
	ctx := context.Background()
	if _, err := a.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(respond.QuarantinePolicyARN)}); err != nil {
		t.Fatalf("the server does not know %s: %v", respond.QuarantinePolicyARN, err)
	}
	for i := range 2 {
		if err := responder.AttachQuarantine(ctx, "alice"); err != nil {
			t.Fatalf("attach #%d: %v", i+1, err)
		}
	}
	if got := attachedTo(t, a, "alice"); !slices.Equal(got, []string{respond.QuarantinePolicyARN}) {
		t.Errorf("attached after two attaches = %q, want the quarantine policy once", got)
	}
	for i := range 2 {
		if err := responder.DetachQuarantine(ctx, "alice"); err != nil {
			t.Fatalf("detach #%d: %v", i+1, err)
		}
	}
	if got := attachedTo(t, a, "alice"); len(got) != 0 {
		t.Errorf("attached after detach = %q, want none", got)
	}
}

func attachedTo(t *testing.T, a *awstest.IAMAccount, user string) []string {
	t.Helper()
	out, err := a.IAM.ListAttachedUserPolicies(context.Background(), &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	return arns
}

func TestDisableConsole(t *testing.T) {
	awstest.Moto(t)
	a := awstest.NewIAMAccount(t)
	ctx := context.Background()
	a.User("withlogin", "")
	a.User("nologin", "")
	a.Must(a.IAM.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
		UserName: aws.String("withlogin"), Password: aws.String(awstest.FakeSecret("console"))}))
	responder := newIAM(t)
	tests := []struct {
		name, user string
		wantHad    []bool // one per call: the second finds nothing left
	}{
		{"a user with a console password", "withlogin", []bool{true, false}},
		{"a user without one", "nologin", []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range tt.wantHad {
				had, err := responder.DisableConsole(ctx, tt.user)
				if err != nil || had != want {
					t.Errorf("call %d: had %v, err %v; want %v, nil", i+1, had, err, want)
				}
			}
			_, err := a.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(tt.user)})
			if err == nil {
				t.Errorf("login profile of %s still there", tt.user)
			}
		})
	}
}

// TestContainmentDenialNamesTheAction runs every change as a user with no
// IAM rights: each error must be recognised as a denial and name the action
// and the user.
func TestContainmentDenialNamesTheAction(t *testing.T) {
	s := awstest.MotoWithAuth(t)
	alice := s.CreateUserKey(t, "alice")
	nobody := s.CreateUserKey(t, "nobody", getUserOnly)
	t.Setenv("AWS_ACCESS_KEY_ID", nobody.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", nobody.Secret.Reveal())
	responder := newIAM(t)
	ctx := context.Background()
	steps := []struct {
		action string
		run    func() error
	}{
		{"iam:UpdateAccessKey", func() error { return responder.SetActive(ctx, "alice", alice.KeyID, false) }},
		{"iam:PutUserPolicy", func() error { return responder.PutRevokeSessions(ctx, "alice", time.Now()) }},
		{"iam:DeleteUserPolicy", func() error { return responder.DeleteRevokeSessions(ctx, "alice") }},
		{"iam:GetUserPolicy", func() error { _, _, err := responder.RevokeSessionsPolicy(ctx, "alice"); return err }},
		{"iam:AttachUserPolicy", func() error { return responder.AttachQuarantine(ctx, "alice") }},
		{"iam:DetachUserPolicy", func() error { return responder.DetachQuarantine(ctx, "alice") }},
		{"iam:DeleteLoginProfile", func() error { _, err := responder.DisableConsole(ctx, "alice"); return err }},
		{"iam:ListUserPolicies", func() error { _, err := responder.UserPolicies(ctx, "alice"); return err }},
	}
	for _, st := range steps {
		t.Run(st.action, func(t *testing.T) {
			err := st.run()
			var denied *respondaws.ActionDeniedError
			if !errors.As(err, &denied) || !errors.Is(err, awsx.ErrAccessDenied) || !awsx.IsDenied(err) {
				t.Fatalf("err = %v, want an *ActionDeniedError", err)
			}
			if denied.Action != st.action || denied.User != "alice" {
				t.Errorf("denied %q on %q, want %q on alice", denied.Action, denied.User, st.action)
			}
			if msg := err.Error(); !strings.Contains(msg, st.action) || !strings.Contains(msg, "alice") {
				t.Errorf("message %q does not name %s and alice", msg, st.action)
			}
		})
	}
}
