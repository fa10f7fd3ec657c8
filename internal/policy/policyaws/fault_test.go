package policyaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/policy"
)

// faulty is the moto-backed adapter with a fault script around each call:
// a step before the call and one after it took effect.
type faulty struct {
	policy.IAM
	s *fault.Script
}

// around is fault.Around with the IAM call's name.
func around[T any](f faulty, name string, call func() (T, error)) (T, error) {
	return fault.Around(f.s, "iam "+name, call)
}

func none(err error) (any, error) { return nil, err }

func (f faulty) Current(ctx context.Context, p policy.Principal) (policy.Current, error) {
	return around(f, "Current", func() (policy.Current, error) { return f.IAM.Current(ctx, p) })
}

func (f faulty) CreatePolicy(ctx context.Context, name, doc string, tags map[string]string) (string, error) {
	var arn string
	_, err := around(f, "CreatePolicy", func() (any, error) {
		var err error
		arn, err = f.IAM.CreatePolicy(ctx, name, doc, tags)
		return nil, err
	})
	return arn, err
}

func (f faulty) PolicyExists(ctx context.Context, name string) (string, bool, error) {
	var ok bool
	arn, err := around(f, "ListPolicies", func() (string, error) {
		arn, exists, err := f.IAM.PolicyExists(ctx, name)
		ok = exists
		return arn, err
	})
	return arn, ok, err
}

func (f faulty) DeletePolicy(ctx context.Context, arn string) error {
	_, err := around(f, "DeletePolicy", func() (any, error) { return none(f.IAM.DeletePolicy(ctx, arn)) })
	return err
}

func (f faulty) Attach(ctx context.Context, p policy.Principal, arn string) error {
	_, err := around(f, "Attach "+arn, func() (any, error) { return none(f.IAM.Attach(ctx, p, arn)) })
	return err
}

func (f faulty) Detach(ctx context.Context, p policy.Principal, arn string) error {
	_, err := around(f, "Detach "+arn, func() (any, error) { return none(f.IAM.Detach(ctx, p, arn)) })
	return err
}

func (f faulty) PutInline(ctx context.Context, p policy.Principal, name, doc string) error {
	_, err := around(f, "PutInline "+name, func() (any, error) { return none(f.IAM.PutInline(ctx, p, name, doc)) })
	return err
}

func (f faulty) DeleteInline(ctx context.Context, p policy.Principal, name string) error {
	_, err := around(f, "DeleteInline "+name, func() (any, error) { return none(f.IAM.DeleteInline(ctx, p, name)) })
	return err
}

func (f faulty) SetDefaultVersion(ctx context.Context, arn, version string) error {
	_, err := around(f, "SetDefaultVersion "+arn, func() (any, error) { return none(f.IAM.SetDefaultVersion(ctx, arn, version)) })
	return err
}

// shaped is a user whose policies have every part a snapshot must keep: a
// customer managed policy at its second version, another one, two inline
// policies (one laid out by hand, whitespace and key order its own) and a
// group with a policy of its own (left as it is).
func shaped(t *testing.T) (policy.Principal, policy.Suggestion) {
	t.Helper()
	awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	must(t, err)
	c := awsx.IAM(awstest.Fixture(cfg)) // fixtures: a create retried after a lost answer is no duplicate
	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")})
	must(t, err)
	for _, name := range []string{"broad", "extra"} {
		p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(allowed)})
		must(t, err)
		if name == "broad" {
			must(t, err2(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, SetAsDefault: true,
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})))
		}
		must(t, err2(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: p.Policy.Arn})))
	}
	for name, doc := range map[string]string{
		"queues":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`,
		"by-hand": "{\n  \"Statement\": [ {\"Resource\": \"*\", \"Action\": [\"sns:Publish\"],\n    \"Effect\": \"Allow\"} ],\n  \"Version\": \"2012-10-17\"\n}\n",
	} {
		must(t, err2(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})))
	}
	must(t, err2(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")})))
	must(t, err2(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`)})))
	must(t, err2(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("app")})))
	p := policy.Principal{Type: "user", Name: "app", ARN: aws.ToString(u.User.Arn), Account: account}
	now := time.Now()
	return p, policy.Suggestion{Principal: p, Since: now.Add(-time.Hour), Until: now,
		Policy:  []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"S01","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders-in/*"}]}`),
		Actions: []policy.Action{{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::orders-in/a"}, FirstSeen: now, LastSeen: now, Count: 3, Source: policy.SourceCloudTrail}}}
}

// The fault suite: apply and undo are each run once to learn their steps
// (every IAM call before and after it takes effect, every journal commit),
// then once per step with that step failing and once with the process
// killed there. After a failure the user runs the same command again (an
// apply resumes and must finish), after a kill 'policy undo'; either way
// the last undo must leave the user's policies exactly as they were: the
// same attachments, default versions, inline documents byte for byte, and
// no keywarden policy.
func TestApplyAndUndoUnderFaultsAtEveryStep(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*policy.Engine, policy.Suggestion, policy.Current) {
		p, s := shaped(t)
		cfg, err := awsx.Load(ctx, awsx.Options{})
		must(t, err)
		e := engine(t, cfg)
		before, err := e.IAM.Current(ctx, p)
		must(t, err)
		return e, s, before
	}
	apply := func(e *policy.Engine, s policy.Suggestion) error {
		_, err := e.Apply(ctx, s, policy.ApplyOptions{KeepDays: 30})
		return err
	}
	// last undoes the newest apply, if a record was made.
	last := func(e *policy.Engine) error {
		list, err := e.List(ctx)
		if err != nil || len(list) == 0 {
			return err
		}
		_, err = e.Undo(ctx, list[len(list)-1].ID)
		if errors.Is(err, policy.ErrNothingToUndo) {
			return nil
		}
		return err
	}
	check := func(t *testing.T, e *policy.Engine, s policy.Suggestion, before policy.Current, what string) {
		t.Helper()
		back, err := e.IAM.Current(ctx, s.Principal)
		must(t, err)
		same(t, before, back)
		if _, exists, err := e.IAM.PolicyExists(ctx, policy.PolicyName(s.Principal)); err != nil || exists {
			t.Errorf("keywarden policy left (exists=%v, %v)", exists, err)
		}
		if t.Failed() {
			t.Fatalf("after %s", what)
		}
	}
	for _, op := range []struct {
		name    string
		prepare bool // apply first, unfaulted
		run     func(*policy.Engine, policy.Suggestion) error
	}{{"apply", false, apply}, {"undo", true, func(e *policy.Engine, _ policy.Suggestion) error { return last(e) }}} {
		t.Run(op.name, func(t *testing.T) {
			e, s, _ := setup(t)
			if op.prepare {
				must(t, apply(e, s))
			}
			learn := &fault.Script{}
			fault.Set(t, learn.Step)
			plain := e.IAM
			e.IAM = faulty{plain, learn}
			must(t, op.run(e, s))
			fault.Set(t, nil)
			steps := learn.Steps()
			if len(steps) < 10 {
				t.Fatalf("only %d steps learnt: %v", len(steps), steps)
			}
			for n := 1; n <= len(steps); n++ {
				for _, kill := range []bool{false, true} {
					what := fmt.Sprintf("%s %s at step %d (%s)", map[bool]string{false: "fail", true: "kill"}[kill], op.name, n, steps[n-1])
					e, s, before := setup(t)
					if op.prepare {
						must(t, apply(e, s))
					}
					sc := &fault.Script{N: n, Kill: kill}
					fault.Set(t, sc.Step)
					plain := e.IAM
					e.IAM = faulty{plain, sc}
					fault.Run(func() error { return op.run(e, s) })
					fault.Set(t, nil)
					e.IAM = plain
					if !kill && op.name == "apply" {
						if err := apply(e, s); err != nil {
							t.Fatalf("%s, then again: %v", what, err)
						}
						now, err := e.IAM.Current(ctx, s.Principal)
						must(t, err)
						if len(now.Attached) != 1 || len(now.Inline) != 0 {
							t.Fatalf("%s, then again: the user holds %+v", what, now)
						}
					}
					if err := last(e); err != nil {
						t.Fatalf("%s, then undo: %v", what, err)
					}
					check(t, e, s, before, what)
				}
			}
			t.Logf("%s: %d steps, each failed and killed", op.name, len(steps))
		})
	}
}
