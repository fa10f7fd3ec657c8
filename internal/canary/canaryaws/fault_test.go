package canaryaws_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/fault"
)

// faulty is the moto-backed adapter with a fault script around each call:
// a step before the call and one after it took effect, so a run is failed
// or killed on either side of every IAM change.
type faulty struct {
	canary.IAM
	s *fault.Script
}

// around is fault.Around with the IAM call's name.
func around[T any](f faulty, name string, call func() (T, error)) (T, error) {
	return fault.Around(f.s, "iam "+name, call)
}

func (f faulty) Account(ctx context.Context) (string, error) {
	return around(f, "Account", func() (string, error) { return f.IAM.Account(ctx) })
}

func (f faulty) UserARN(ctx context.Context, user string) (string, bool, error) {
	var exists bool
	arn, err := around(f, "GetUser", func() (string, error) {
		arn, ok, err := f.IAM.UserARN(ctx, user)
		exists = ok
		return arn, err
	})
	return arn, exists, err
}

func (f faulty) CreateUser(ctx context.Context, user, path string) (string, error) {
	return around(f, "CreateUser", func() (string, error) { return f.IAM.CreateUser(ctx, user, path) })
}

func (f faulty) PutPolicy(ctx context.Context, user, name, doc string) error {
	_, err := around(f, "PutUserPolicy", func() (any, error) { return nil, f.IAM.PutPolicy(ctx, user, name, doc) })
	return err
}

func (f faulty) CreateKey(ctx context.Context, user string) (credential.Key, error) {
	return around(f, "CreateAccessKey", func() (credential.Key, error) { return f.IAM.CreateKey(ctx, user) })
}

func (f faulty) ListKeys(ctx context.Context, user string) ([]string, error) {
	return around(f, "ListAccessKeys", func() ([]string, error) { return f.IAM.ListKeys(ctx, user) })
}

func (f faulty) DeleteKey(ctx context.Context, user, id string) error {
	_, err := around(f, "DeleteAccessKey", func() (any, error) { return nil, f.IAM.DeleteKey(ctx, user, id) })
	return err
}

func (f faulty) DeletePolicy(ctx context.Context, user, name string) error {
	_, err := around(f, "DeleteUserPolicy", func() (any, error) { return nil, f.IAM.DeletePolicy(ctx, user, name) })
	return err
}

func (f faulty) DeleteUser(ctx context.Context, user string) error {
	_, err := around(f, "DeleteUser", func() (any, error) { return nil, f.IAM.DeleteUser(ctx, user) })
	return err
}

// The fault suite: create, rotate and delete are each run once to learn
// their steps (every IAM call before and after it takes effect, every
// journal commit, every fsync and rename of a placement), then once per
// step with that step failing and once with the process killed there. The
// user's next move follows: after a failure the same command again (a
// create or rotate resumes, then must be whole: one key in IAM, in every
// placement), after a kill 'canary delete'. Either way a final delete must
// leave nothing behind: no user, no listed canary, every file's own bytes.
func TestCanaryUnderFaultsAtEveryStep(t *testing.T) {
	const name = "orders-sync"
	own := map[string]string{"credentials": "[default]\nregion = eu-west-1\n", "dotenv": "A=1"}
	setup := func(t *testing.T) (*rig, []canary.Placement) {
		awstest.Moto(t)
		r := newRig(t)
		var places []canary.Placement
		for _, f := range []string{"credentials", "dotenv", "csv"} {
			p := canary.Placement{Format: f, Path: filepath.Join(r.dir, "placed", f)}
			if s, ok := own[f]; ok {
				os.MkdirAll(filepath.Dir(p.Path), 0o700)
				os.WriteFile(p.Path, []byte(s), 0o600)
			}
			places = append(places, p)
		}
		return r, places
	}
	create := func(r *rig, places []canary.Placement) error {
		_, err := r.e.Create(context.Background(), canary.CreateOptions{Name: name, Placements: places})
		return err
	}
	rotate := func(r *rig, _ []canary.Placement) error { _, err := r.e.Rotate(context.Background(), name); return err }
	del := func(r *rig, _ []canary.Placement) error {
		_, err := r.e.Delete(context.Background(), name)
		if errors.Is(err, canary.ErrNotFound) {
			return nil
		}
		return err
	}
	for _, op := range []struct {
		name    string
		prepare bool // create the canary first, unfaulted
		run     func(*rig, []canary.Placement) error
	}{{"create", false, create}, {"rotate", true, rotate}, {"delete", true, del}} {
		t.Run(op.name, func(t *testing.T) {
			r, places := setup(t)
			if op.prepare {
				if err := create(r, places); err != nil {
					t.Fatal(err)
				}
			}
			learn := &fault.Script{}
			fault.Set(t, learn.Step)
			r.e.IAM = faulty{r.e.IAM, learn}
			if err := op.run(r, places); err != nil {
				t.Fatal(err)
			}
			fault.Set(t, nil)
			steps := learn.Steps()
			if len(steps) < 8 {
				t.Fatalf("only %d steps learnt: %v", len(steps), steps)
			}
			for n := 1; n <= len(steps); n++ {
				for _, kill := range []bool{false, true} {
					what := fmt.Sprintf("%s %s at step %d (%s)", map[bool]string{false: "fail", true: "kill"}[kill], op.name, n, steps[n-1])
					r, places := setup(t)
					if op.prepare {
						if err := create(r, places); err != nil {
							t.Fatal(err)
						}
					}
					s := &fault.Script{N: n, Kill: kill}
					fault.Set(t, s.Step)
					plain := r.e.IAM
					r.e.IAM = faulty{plain, s}
					fault.Run(func() error { return op.run(r, places) })
					fault.Set(t, nil)
					r.e.IAM = plain
					if !kill && op.name != "delete" {
						if err := op.run(r, places); err != nil {
							t.Fatalf("%s, then again: %v", what, err)
						}
						c := r.only(name)
						r.holds(c, places)
					}
					if err := del(r, places); err != nil {
						t.Fatalf("%s, then delete: %v", what, err)
					}
					r.nothingLeft(places, own)
					if t.Failed() {
						t.Fatalf("after %s", what)
					}
				}
			}
			t.Logf("%s: %d steps, each failed and killed", op.name, len(steps))
		})
	}
}

// only is the one canary listed, named name.
func (r *rig) only(name string) canary.Canary {
	r.t.Helper()
	list, err := r.e.List(context.Background())
	if err != nil || len(list) != 1 || list[0].Canary.Name != name || list[0].Open {
		r.t.Fatalf("want canary %s ready, got %+v (%v)", name, list, err)
	}
	return list[0].Canary
}
