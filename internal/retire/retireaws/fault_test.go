package retireaws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/retire"
	"github.com/keywarden/keywarden/internal/rotate"
)

// faulty is the moto-backed adapter with a fault script around each call:
// a step before the call and one after it took effect, so a run is failed
// or killed on either side of every IAM change.
type faulty struct {
	retire.IAM
	s *fault.Script
}

func around[T any](f faulty, name string, call func() (T, error)) (T, error) {
	return fault.Around(f.s, "iam "+name, call)
}

func do(f faulty, name string, call func() error) error {
	_, err := around(f, name, func() (any, error) { return nil, call() })
	return err
}

func (f faulty) Account(ctx context.Context) (string, error) {
	return around(f, "GetCallerIdentity", func() (string, error) { return f.IAM.Account(ctx) })
}

func (f faulty) Provider(ctx context.Context, arn string) (retire.Resource, bool, error) {
	var found bool
	r, err := around(f, "GetOpenIDConnectProvider", func() (retire.Resource, error) {
		r, ok, err := f.IAM.Provider(ctx, arn)
		found = ok
		return r, err
	})
	return r, found, err
}

func (f faulty) CreateProvider(ctx context.Context, url string, ids []string, tags map[string]string) (string, error) {
	return around(f, "CreateOpenIDConnectProvider", func() (string, error) { return f.IAM.CreateProvider(ctx, url, ids, tags) })
}

func (f faulty) DeleteProvider(ctx context.Context, arn string) error {
	return do(f, "DeleteOpenIDConnectProvider", func() error { return f.IAM.DeleteProvider(ctx, arn) })
}

func (f faulty) Role(ctx context.Context, name string) (retire.Role, bool, error) {
	var found bool
	r, err := around(f, "GetRole", func() (retire.Role, error) {
		r, ok, err := f.IAM.Role(ctx, name)
		found = ok
		return r, err
	})
	return r, found, err
}

func (f faulty) CreateRole(ctx context.Context, name, trust, desc string, tags map[string]string) (string, error) {
	return around(f, "CreateRole", func() (string, error) { return f.IAM.CreateRole(ctx, name, trust, desc, tags) })
}

func (f faulty) PutRolePolicy(ctx context.Context, role, name, doc string) error {
	return do(f, "PutRolePolicy", func() error { return f.IAM.PutRolePolicy(ctx, role, name, doc) })
}

func (f faulty) DeleteRolePolicy(ctx context.Context, role, name string) error {
	return do(f, "DeleteRolePolicy", func() error { return f.IAM.DeleteRolePolicy(ctx, role, name) })
}

func (f faulty) DeleteRole(ctx context.Context, name string) error {
	return do(f, "DeleteRole", func() error { return f.IAM.DeleteRole(ctx, name) })
}

func (f faulty) InstanceProfile(ctx context.Context, name string) (retire.Resource, bool, error) {
	var found bool
	r, err := around(f, "GetInstanceProfile", func() (retire.Resource, error) {
		r, ok, err := f.IAM.InstanceProfile(ctx, name)
		found = ok
		return r, err
	})
	return r, found, err
}

func (f faulty) CreateInstanceProfile(ctx context.Context, name string, tags map[string]string) (string, error) {
	return around(f, "CreateInstanceProfile", func() (string, error) { return f.IAM.CreateInstanceProfile(ctx, name, tags) })
}

func (f faulty) AddRoleToInstanceProfile(ctx context.Context, profile, role string) error {
	return do(f, "AddRoleToInstanceProfile", func() error { return f.IAM.AddRoleToInstanceProfile(ctx, profile, role) })
}

func (f faulty) RemoveRoleFromInstanceProfile(ctx context.Context, profile, role string) error {
	return do(f, "RemoveRoleFromInstanceProfile", func() error { return f.IAM.RemoveRoleFromInstanceProfile(ctx, profile, role) })
}

func (f faulty) DeleteInstanceProfile(ctx context.Context, name string) error {
	return do(f, "DeleteInstanceProfile", func() error { return f.IAM.DeleteInstanceProfile(ctx, name) })
}

// The fault suite: apply (of a GitHub role, and of an instance profile) is
// run once to learn its steps (every IAM call before and after it takes
// effect, every journal commit), then once per step with that step failing,
// and twice with the process killed there. The user's next move follows:
// after a failure, and after one of the kills, apply again, which must
// leave the replacement whole (one role, one provider or instance profile,
// the key retiring); after the other kill, undo straight away. Either way a
// final undo must leave nothing behind in IAM.
func TestApplyUnderFaultsAtEveryStep(t *testing.T) {
	for _, tc := range []struct{ fixture, role string }{{"github.json", "shop-deploy"}, {"ec2.json", "orders-worker"}} {
		t.Run(tc.fixture, func(t *testing.T) {
			setup := func() (*rig, string, retire.Plan) {
				r := newRig(t, awstest.Moto(t))
				key := r.user("deployer")
				return r, key, r.plan(tc.fixture, "@KEYID@", key, "@USER@", "deployer", "@ROLE@", tc.role, "@SUB@", pinned)
			}
			r, _, p := setup()
			learn := &fault.Script{}
			fault.Set(t, learn.Step)
			r.a.IAM = faulty{r.a.IAM, learn}
			r.apply(p)
			fault.Set(t, nil)
			steps := learn.Steps()
			if len(steps) < 10 {
				t.Fatalf("only %d steps learnt: %v", len(steps), steps)
			}
			runs := 0
			for n := 1; n <= len(steps); n++ {
				for _, next := range []string{"fail, apply", "kill, apply", "kill, undo"} {
					what := fmt.Sprintf("%s after step %d (%s)", next, n, steps[n-1])
					r, key, p := setup()
					s := &fault.Script{N: n, Kill: next != "fail, apply"}
					fault.Set(t, s.Step)
					plain := r.a.IAM
					r.a.IAM = faulty{plain, s}
					fault.Run(func() error { _, err := r.a.Apply(context.Background(), p); return err })
					fault.Set(t, nil)
					r.a.IAM = plain
					runs++
					if next != "kill, undo" {
						if _, err := r.a.Apply(context.Background(), p); err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						r.whole(key, tc.fixture == "ec2.json")
					}
					// No record: killed before the first journal commit, nothing made.
					if _, err := r.a.Undo(context.Background(), key); err != nil && !errors.Is(err, retire.ErrNotFound) {
						t.Fatalf("%s, then undo: %v", what, err)
					}
					if roles, profiles, providers := r.left(); len(roles)+len(profiles)+len(providers) != 0 {
						t.Fatalf("%s, then undo: left roles %v, profiles %v, providers %v", what, roles, profiles, providers)
					}
				}
			}
			t.Logf("%s: %d steps, %d faulted runs", tc.fixture, len(steps), runs)
		})
	}
}

// whole checks the replacement is built once and the key retiring.
func (r *rig) whole(key string, profile bool) {
	r.t.Helper()
	roles, profiles, providers := r.left()
	wantProfiles, wantProviders := 0, 1
	if profile {
		wantProfiles, wantProviders = 1, 0
	}
	if len(roles) != 1 || len(profiles) != wantProfiles || len(providers) != wantProviders {
		r.t.Fatalf("not whole: roles %v, profiles %v, providers %v", roles, profiles, providers)
	}
	e, err := r.a.Find(context.Background(), key)
	if err != nil || e.Step != retire.StepRetiring {
		r.t.Fatalf("record: %+v %v", e, err)
	}
}

// faultyKeys is the key's calls (rotateaws) with the same script around each.
type faultyKeys struct {
	retire.KeyAdmin
	s *fault.Script
}

func (f faultyKeys) LastUsed(ctx context.Context, id string) (rotate.KeyUse, error) {
	return fault.Around(f.s, "iam GetAccessKeyLastUsed", func() (rotate.KeyUse, error) { return f.KeyAdmin.LastUsed(ctx, id) })
}

func (f faultyKeys) SetActive(ctx context.Context, user, id string, active bool) error {
	_, err := fault.Around(f.s, "iam UpdateAccessKey", func() (any, error) { return nil, f.KeyAdmin.SetActive(ctx, user, id, active) })
	return err
}

func (f faultyKeys) DeleteKey(ctx context.Context, user, id string) error {
	_, err := fault.Around(f.s, "iam DeleteAccessKey", func() (any, error) { return nil, f.KeyAdmin.DeleteKey(ctx, user, id) })
	return err
}

// Finish (from retiring to retired, with no grace) and undo (of a
// deactivated key) are faulted the same way: after a failure the same
// command again must end where an unfaulted run does (the key deleted; or
// everything removed and the key active), and after a kill, undo must leave
// nothing behind but the key, active if it still exists.
func TestFinishAndUndoUnderFaultsAtEveryStep(t *testing.T) {
	ctx := context.Background()
	setup := func() (*rig, string) {
		r := newRig(t, awstest.Moto(t))
		key := r.user("deployer")
		res := r.apply(r.plan("github.json", "@KEYID@", key, "@USER@", "deployer", "@ROLE@", "shop-deploy", "@SUB@", pinned))
		r.useRole(res[0].Retirement.RoleARN)
		r.now = r.now.Add(15 * day)
		return r, key
	}
	finish := func(r *rig, key string, grace time.Duration) error {
		_, err := r.a.Finish(ctx, retire.FinishOptions{IDs: []string{key}, Window: 14 * day, Grace: grace})
		return err
	}
	undo := func(r *rig, key string) error { _, err := r.a.Undo(ctx, key); return err }
	for _, op := range []struct {
		name    string
		prepare func(*rig, string) error
		run     func(*rig, string) error
		whole   func(*rig, string)
	}{
		{"finish", func(*rig, string) error { return nil }, func(r *rig, k string) error { return finish(r, k, 0) },
			func(r *rig, k string) {
				if s := r.keyStatus("deployer", k); s != "" {
					t.Fatalf("finish: the key is %s, want deleted", s)
				}
			}},
		{"undo", func(r *rig, k string) error { return finish(r, k, 7*day) }, undo,
			func(r *rig, k string) {}},
	} {
		t.Run(op.name, func(t *testing.T) {
			r, key := setup()
			must(t, op.prepare(r, key))
			learn := &fault.Script{}
			fault.Set(t, learn.Step)
			r.a.IAM, r.a.Keys = faulty{r.a.IAM, learn}, faultyKeys{r.a.Keys, learn}
			must(t, op.run(r, key))
			fault.Set(t, nil)
			steps := learn.Steps()
			runs := 0
			for n := 1; n <= len(steps); n++ {
				for _, kill := range []bool{false, true} {
					what := fmt.Sprintf("%s %s at step %d (%s)", map[bool]string{false: "fail", true: "kill"}[kill], op.name, n, steps[n-1])
					r, key := setup()
					must(t, op.prepare(r, key))
					s := &fault.Script{N: n, Kill: kill}
					fault.Set(t, s.Step)
					iam, keys := r.a.IAM, r.a.Keys
					r.a.IAM, r.a.Keys = faulty{iam, s}, faultyKeys{keys, s}
					fault.Run(func() error { return op.run(r, key) })
					fault.Set(t, nil)
					r.a.IAM, r.a.Keys = iam, keys
					runs++
					if !kill {
						if err := op.run(r, key); err != nil {
							t.Fatalf("%s, then again: %v", what, err)
						}
						op.whole(r, key)
					}
					if err := undo(r, key); err != nil && !strings.Contains(err.Error(), "undone already") {
						t.Fatalf("%s, then undo: %v", what, err)
					}
					if roles, profiles, providers := r.left(); len(roles)+len(profiles)+len(providers) != 0 {
						t.Fatalf("%s, then undo: left roles %v, profiles %v, providers %v", what, roles, profiles, providers)
					}
					if s := r.keyStatus("deployer", key); s != "" && s != types.StatusTypeActive {
						t.Fatalf("%s, then undo: the key is %s", what, s)
					}
				}
			}
			t.Logf("%s: %d steps, %d faulted runs", op.name, len(steps), runs)
		})
	}
}
