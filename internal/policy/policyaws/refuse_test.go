package policyaws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/policy"
)

// Apply refuses, before any change, a policy that would deny an action used
// within --keep-days, a suggestion made on policies that changed since, and
// a principal whose keywarden policy name is taken; an action last used
// before the window does not hold it back.
func TestApplyRefusesBeforeAnyChange(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		edit func(*testing.T, *policy.Suggestion, *policy.Engine)
		want string
	}{
		{"denies a used action", func(_ *testing.T, s *policy.Suggestion, _ *policy.Engine) {
			s.Actions = append(s.Actions, policy.Action{Action: "sqs:SendMessage", Resources: []string{"arn:aws:sqs:us-east-1:123456789012:jobs"},
				LastSeen: time.Now().Add(-24 * time.Hour), Count: 2})
		}, "denies sqs:SendMessage on arn:aws:sqs:us-east-1:123456789012:jobs, used "},
		{"policies changed", func(_ *testing.T, s *policy.Suggestion, _ *policy.Engine) { s.Fingerprint = "0123456789abcdef" },
			"the policies of user app changed since the suggestion was made"},
		{"too big", func(_ *testing.T, s *policy.Suggestion, _ *policy.Engine) {
			s.Policy = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::orders-in/*","` +
				strings.Repeat("x", policy.MaxPolicySize) + `"]}]}`)
		}, "a managed policy holds at most 6144"},
		{"name taken", func(t *testing.T, s *policy.Suggestion, e *policy.Engine) {
			must(t, err2(e.IAM.CreatePolicy(ctx, policy.PolicyName(s.Principal), allowed, nil)))
		}, "policy arn:aws:iam::123456789012:policy/keywarden/keywarden-lp-app exists"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, s := shaped(t)
			cfg, err := awsx.Load(ctx, awsx.Options{})
			must(t, err)
			e := engine(t, cfg)
			c.edit(t, &s, e)
			before, err := e.IAM.Current(ctx, s.Principal)
			must(t, err)
			_, err = e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30})
			if !errors.Is(err, policy.ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Apply = %v, want refused: %s", err, c.want)
			}
			after, err := e.IAM.Current(ctx, s.Principal)
			must(t, err)
			same(t, before, after)
			if list, _ := e.List(ctx); len(list) != 0 {
				t.Errorf("a refused apply journaled %d records", len(list))
			}
		})
	}
	t.Run("old use and a matching fingerprint pass", func(t *testing.T) {
		_, s := shaped(t)
		cfg, err := awsx.Load(ctx, awsx.Options{})
		must(t, err)
		e := engine(t, cfg)
		s.Actions = append(s.Actions, policy.Action{Action: "sqs:SendMessage", Resources: []string{"*"}, LastSeen: time.Now().AddDate(0, 0, -31), Count: 2})
		cur, err := e.IAM.Current(ctx, s.Principal)
		must(t, err)
		s.Fingerprint = cur.Fingerprint()
		if _, err := e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30}); err != nil {
			t.Fatal(err)
		}
	})
}

// Diff on the shaped user: the broad grants (its own and its group's) are
// removed, the suggested read is unchanged (s3:* allows it), nothing added.
func TestDiffListsWhatApplyRemoves(t *testing.T) {
	ctx := context.Background()
	p, s := shaped(t)
	cfg, err := awsx.Load(ctx, awsx.Options{})
	must(t, err)
	cur, err := engine(t, cfg).IAM.Current(ctx, p)
	must(t, err)
	d, err := policy.Compare(cur, s)
	must(t, err)
	removed, added, unchanged := d.Counts()
	if added != 0 || unchanged != 1 || removed != 5 {
		t.Fatalf("diff = %d removed, %d added, %d unchanged: %+v", removed, added, unchanged, d.Services)
	}
	if len(d.Groups) != 1 || d.Groups[0] != "ops" || len(d.Policies) != 4 {
		t.Errorf("diff policies %v groups %v", d.Policies, d.Groups)
	}
	s.Policy = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`)
	cur.Attached = cur.Attached[:1] // broad (s3:*) alone, without extra's allow-all
	if d, _ = policy.Compare(cur, s); func() int { _, a, _ := d.Counts(); return a }() != 1 {
		t.Errorf("a grant the user lacks is not added: %+v", d.Services)
	}
}

// An apply left unfinished (killed) is resumed by the same suggestion and
// refused for another one, which would otherwise replace a snapshot.
func TestUnfinishedApplyIsResumedOnlyByItsOwnSuggestion(t *testing.T) {
	ctx := context.Background()
	_, s := shaped(t)
	cfg, err := awsx.Load(ctx, awsx.Options{})
	must(t, err)
	e := engine(t, cfg)
	before, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	kill := &fault.Script{N: 6, Kill: true} // after CreatePolicy took effect
	plain := e.IAM
	e.IAM = faulty{plain, kill}
	if killed, _ := fault.Run(func() error { _, err := e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30}); return err }); !killed {
		t.Fatal("the apply was not killed")
	}
	e.IAM = plain
	other := s
	other.Policy = []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`)
	if _, err := e.Apply(ctx, other, policy.ApplyOptions{KeepDays: 30}); !errors.Is(err, policy.ErrRefused) || !strings.Contains(err.Error(), "of another policy, is unfinished") {
		t.Fatalf("another suggestion over an unfinished apply: %v", err)
	}
	a, err := e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30})
	must(t, err)
	must(t, err2(e.Undo(ctx, a.ID)))
	back, err := e.IAM.Current(ctx, s.Principal)
	must(t, err)
	same(t, before, back)
}

// An AWS managed policy in the snapshot is attached again by undo as it
// was, its versions left to AWS (moto's third server knows them).
func TestUndoReattachesAnAWSManagedPolicy(t *testing.T) {
	awstest.MotoWithManagedPolicies(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	must(t, err)
	c := awsx.IAM(awstest.Fixture(cfg))
	must(t, err2(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")})))
	must(t, err2(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})))
	e := engine(t, cfg)
	p := policy.Principal{Type: "user", Name: "app", Account: account}
	before, err := e.IAM.Current(ctx, p)
	must(t, err)
	if len(before.Attached) != 1 || before.Attached[0].DefaultVersion != "" || before.Attached[0].Document == "" {
		t.Fatalf("snapshot of an AWS managed policy: %+v", before.Attached)
	}
	now := time.Now()
	a, err := e.Apply(ctx, policy.Suggestion{Principal: p,
		Policy:  []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		Actions: []policy.Action{{Action: "s3:GetObject", LastSeen: now, Count: 1}}}, policy.ApplyOptions{KeepDays: 30})
	must(t, err)
	must(t, err2(e.Undo(ctx, a.ID)))
	back, err := e.IAM.Current(ctx, p)
	must(t, err)
	same(t, before, back)
}
