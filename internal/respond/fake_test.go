package respond_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/iamfake"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/state"
)

// Responses on an IAM account in memory (iamfake, held to moto's behaviour
// by its conformance suite): fast enough to crash a response at every call.

const account = "123456789012"

// incidentFixture is an exposed key of user deploy, who also has a console
// password, with a responder journaling into its own state database.
type incidentFixture struct {
	acct *iamfake.Account
	db   *state.DB
	key  credential.Key
}

func newIncident(t *testing.T) *incidentFixture {
	t.Helper()
	acct := iamfake.New(account)
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := acct.CreateUser("deploy"); err != nil {
		t.Fatal(err)
	}
	if err := acct.SetLoginProfile("deploy"); err != nil {
		t.Fatal(err)
	}
	key, _, err := acct.CreateKey(context.Background(), "deploy")
	if err != nil {
		t.Fatal(err)
	}
	return &incidentFixture{acct: acct, db: db, key: key}
}

func (f *incidentFixture) responder() *respond.Responder {
	return &respond.Responder{IAM: f.acct, DB: f.db, Now: time.Now}
}

func (f *incidentFixture) request() respond.Request {
	return respond.Request{KeyID: f.key.ID, Apply: true, Quarantine: true}
}

// contained says what of the containment is in place: the key's status,
// the session deny, the quarantine policy.
func (f *incidentFixture) contained(t *testing.T) (active, revoked, quarantined bool) {
	t.Helper()
	ctx := context.Background()
	owner, err := f.acct.KeyOwner(ctx, f.key.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.acct.UserPolicies(ctx, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	revoked = slices.ContainsFunc(p.Set.Inline, func(in iampolicy.InlinePolicy) bool { return in.Name == respond.RevokePolicyName })
	return owner.Status == "Active", revoked, slices.Contains(p.Set.Attached, respond.QuarantinePolicyARN)
}

func TestRunContainsAndUndoPutsBack(t *testing.T) {
	f := newIncident(t)
	ctx := context.Background()
	plan, err := f.responder().Run(ctx, respond.Request{KeyID: f.key.ID, Quarantine: true})
	if err != nil || plan.Incident != "" || plan.Applied {
		t.Fatalf("plan: %+v, %v", plan, err)
	}
	if active, revoked, q := f.contained(t); !active || revoked || q {
		t.Fatalf("a plan changed the account: active=%v revoked=%v quarantined=%v", active, revoked, q)
	}
	rep, err := f.responder().Run(ctx, f.request())
	if err != nil || rep.Incident == "" || !rep.Applied || rep.Owner.User != "deploy" {
		t.Fatalf("apply: %+v, %v", rep, err)
	}
	if active, revoked, q := f.contained(t); active || !revoked || !q {
		t.Fatalf("after apply: active=%v revoked=%v quarantined=%v; want contained", active, revoked, q)
	}
	if _, err := f.responder().Undo(ctx, rep.Incident); err != nil {
		t.Fatal(err)
	}
	if active, revoked, q := f.contained(t); !active || revoked || q {
		t.Fatalf("after undo: active=%v revoked=%v quarantined=%v; want as before", active, revoked, q)
	}
	if _, err := f.responder().Undo(ctx, rep.Incident); !errors.Is(err, respond.ErrNothingToUndo) {
		t.Errorf("second undo: %v, want ErrNothingToUndo", err)
	}
}

func TestRunOfAnotherAccountsKeyChangesNothing(t *testing.T) {
	f := newIncident(t)
	other := iamfake.New("210987654321")
	if err := other.CreateUser("x"); err != nil {
		t.Fatal(err)
	}
	foreign, _, err := other.CreateKey(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.responder().Run(context.Background(), respond.Request{KeyID: foreign.ID, Apply: true})
	if err != nil || rep.Incident != "" || len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "not a key of this account") {
		t.Fatalf("Run(foreign key) = %+v, %v; want a warning and no incident", rep, err)
	}
	if active, revoked, q := f.contained(t); !active || revoked || q {
		t.Errorf("the account changed: active=%v revoked=%v quarantined=%v", active, revoked, q)
	}
}

// TestResponseKilledAtAnyStepEndsContainedAndUndoable kills the response
// at every IAM call in turn, before and after the call takes effect, then
// responds again, as an operator would: the key ends contained. Undoing
// every incident the two runs journaled then puts the account back as it
// was: a crash never leaves a change that undo does not know of.
func TestResponseKilledAtAnyStepEndsContainedAndUndoable(t *testing.T) {
	ctx := context.Background()
	steps := callsOf(t, func(f *incidentFixture) { f.responder().Run(ctx, f.request()) })
	t.Logf("%d IAM calls %v, each killed before and after it takes effect", len(steps), steps)
	for _, after := range []bool{false, true} {
		for n := 1; n <= len(steps); n++ {
			f := newIncident(t)
			crash := crashAt(n)
			if after {
				f.acct.FailAfter = crash
			} else {
				f.acct.Fail = crash
			}
			_, err := f.responder().Run(ctx, f.request())
			f.acct.Fail, f.acct.FailAfter = nil, nil
			what := fmt.Sprintf("kill at call %d (%s, after it took effect: %v)", n, steps[n-1], after)
			if err != nil && !errors.Is(err, iamfake.ErrCrash) {
				t.Fatalf("%s: failed otherwise: %v", what, err)
			}
			if _, err := f.responder().Run(ctx, f.request()); err != nil {
				t.Fatalf("%s: the second response failed: %v", what, err)
			}
			if active, revoked, q := f.contained(t); active || !revoked || !q {
				t.Fatalf("%s: after the second run active=%v revoked=%v quarantined=%v; want contained", what, active, revoked, q)
			}
			undoAll(t, f.db, f.responder())
			if active, revoked, q := f.contained(t); !active || revoked || q {
				t.Fatalf("%s: after undoing every incident active=%v revoked=%v quarantined=%v; want as before",
					what, active, revoked, q)
			}
		}
	}
}

// callsOf lists the IAM calls run makes on a fresh fixture, in order: the
// steps a kill test crashes at, one by one.
func callsOf(t *testing.T, run func(*incidentFixture)) []string {
	t.Helper()
	f := newIncident(t)
	var calls []string
	f.acct.Fail = func(action string) error { calls = append(calls, action); return nil }
	run(f)
	if len(calls) == 0 {
		t.Fatal("no IAM call made")
	}
	return calls
}

// crashAt fails the n-th call it is asked about, as a kill -9 would.
func crashAt(n int) func(string) error {
	calls := 0
	return func(string) error {
		if calls++; calls == n {
			return iamfake.ErrCrash
		}
		return nil
	}
}

// undoAll undoes every open incident, newest first, as an operator
// reversing a false alarm would.
func undoAll(t *testing.T, db *state.DB, r *respond.Responder) {
	t.Helper()
	recs, err := db.List(context.Background(), respond.Kind, state.Filter{OpenOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if _, err := r.Undo(context.Background(), recs[i].ID); err != nil {
			t.Fatalf("undo %s: %v", recs[i].ID, err)
		}
	}
}

// TestReplaceRotateRefusesContainsNothing runs respond's replace through
// rotate's own Rotator: when rotate's checks refuse the replacement (here,
// a second active key leaves no room for a new one), the response stops
// before its first change: the exposed key stays active, nothing is
// journaled, no key is created.
func TestReplaceRotateRefusesContainsNothing(t *testing.T) {
	f := newIncident(t)
	ctx := context.Background()
	second, _, err := f.acct.CreateKey(ctx, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	r := f.responder()
	r.Rotator = respond.QuietDryRuns{Rotator: &rotate.Rotator{IAM: f.acct, DB: f.db, Targets: rotate.Targets(target.Env{}, nil), Out: io.Discard,
		Confirm: func(string) bool { return true }, Now: time.Now}}
	req := f.request()
	req.ReplaceTo = []string{"envfile:" + filepath.Join(t.TempDir(), "app.env")}
	rep, err := r.Run(ctx, req)
	if err == nil || !strings.Contains(err.Error(), "two active keys") || !strings.Contains(err.Error(), "nothing was contained") {
		t.Fatalf("err = %v, want rotate's refusal and that nothing was contained", err)
	}
	if active, revoked, q := f.contained(t); !active || revoked || q || rep.Incident != "" {
		t.Errorf("a refused replacement changed the account: active=%v revoked=%v quarantined=%v incident %q", active, revoked, q, rep.Incident)
	}
	keys, err := f.acct.ListKeys(ctx, "deploy")
	if err != nil || len(keys) != 2 || !slices.ContainsFunc(keys, func(k rotate.AccessKey) bool { return k.ID == second.ID }) {
		t.Errorf("keys %+v (%v), want the two keys deploy had", keys, err)
	}
}

// TestReplaceChecksQuietlyThenRotates: through QuietDryRuns, the check
// before containment prints none of rotate's plan (which says "nothing is
// changed"), and the replacement itself is made and said as before.
func TestReplaceChecksQuietlyThenRotates(t *testing.T) {
	f := newIncident(t)
	var out strings.Builder
	r := f.responder()
	r.Rotator = respond.QuietDryRuns{Rotator: &rotate.Rotator{IAM: f.acct, DB: f.db, Targets: rotate.Targets(target.Env{}, nil), Out: &out,
		Confirm: func(string) bool { return false }, Now: time.Now, VerifyTimeout: 5 * time.Second, VerifyEvery: 10 * time.Millisecond}}
	env := filepath.Join(t.TempDir(), "app.env")
	req := f.request()
	req.ReplaceTo = []string{"envfile:" + env}
	rep, err := r.Run(context.Background(), req)
	if err != nil || rep.Replacement == "" {
		t.Fatalf("Run: %v, replacement %q", err, rep.Replacement)
	}
	if strings.Contains(out.String(), "dry run") || !strings.Contains(out.String(), "created key "+rep.Replacement) {
		t.Errorf("rotate's lines:\n%s\nwant no dry-run plan, and the key created", out.String())
	}
}
