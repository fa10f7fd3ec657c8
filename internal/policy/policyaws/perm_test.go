package policyaws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/policy"
)

// docs/policies/policy-apply.json is enough for diff, apply and undo: moto,
// with IAM authorization enforced, runs them as a user holding exactly
// those actions (resources widened to "*": moto matches user and policy
// actions against "*" alone), and refuses the apply once one is gone.
func TestDocumentedPolicySuffices(t *testing.T) {
	doc := awstest.DocumentedPolicy(t, "policy-apply.json")
	srv := awstest.MotoWithAuth(t)
	ctx := context.Background()
	base, err := awsx.Load(ctx, awsx.Options{})
	must(t, err)
	admin := key(base, srv.CreateUserKey(t, "admin", allowed))
	srv.CreateUserKey(t, "app", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`)
	c := awsx.IAM(awstest.Fixture(admin))
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("broad"), PolicyDocument: aws.String(allowed)})
	must(t, err)
	must(t, err2(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: p.Policy.Arn})))
	now := time.Now()
	s := policy.Suggestion{Principal: policy.Principal{Type: "user", Name: "app", Account: account},
		Policy:  []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`),
		Actions: []policy.Action{{Action: "sqs:SendMessage", LastSeen: now, Count: 1}}}

	narrow := engine(t, key(base, srv.CreateUserKey(t, "narrow", strings.Replace(doc, `"iam:DetachUserPolicy",`, "", 1))))
	if _, err := narrow.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30}); !awsx.IsDenied(err) || !strings.Contains(err.Error(), "detach-user-policy") {
		t.Fatalf("apply without iam:DetachUserPolicy: want it denied, got %v", err)
	}
	e := engine(t, key(base, srv.CreateUserKey(t, "keyadmin", doc)))
	list, err := narrow.List(ctx)
	must(t, err)
	e.DB = narrow.DB // the half-done apply, undone as the documented policy
	if len(list) != 1 {
		t.Fatalf("the denied apply journaled %d records, want 1", len(list))
	}
	_, err = e.Undo(ctx, list[0].ID)
	must(t, err)
	before, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	if _, err := policy.Compare(before, s); err != nil {
		t.Fatalf("diff as the documented policy: %v", err)
	}
	a, err := e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30})
	if err != nil {
		t.Fatalf("apply as the documented policy: %v", err)
	}
	if _, err := e.Undo(ctx, a.ID); err != nil {
		t.Fatalf("undo as the documented policy: %v", err)
	}
	back, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	same(t, before, back)
}
