package respond_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/iamfake"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
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
	env  string // with replacing: the dotenv file the replacement key goes to
}

func newIncident(t *testing.T) *incidentFixture {
	t.Helper()
	acct := iamfake.New(account)
	db, err := state.Open(filepath.Join(awstest.MemDir(t), "state.db"))
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

// newReplacing is newIncident whose response also replaces the key: a
// dotenv file holds it, and gets the new one.
func newReplacing(t *testing.T) *incidentFixture {
	f := newIncident(t)
	f.env = filepath.Join(awstest.MemDir(t), "app.env")
	if err := os.WriteFile(f.env, []byte(envText(f.key.ID, f.key.Secret.Reveal())), 0o640); err != nil {
		t.Fatal(err)
	}
	return f
}

func envText(id, sec string) string {
	return "# app\nAWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\nREGION=eu-west-1\n"
}

func (f *incidentFixture) responder() *respond.Responder {
	r := &respond.Responder{IAM: f.acct, DB: f.db, Now: time.Now}
	if f.env != "" {
		r.Rotator = &rotate.Rotator{IAM: f.acct, DB: f.db, Targets: rotate.Targets(target.Env{}, nil),
			Confirm: func(string) bool { return false }, Now: time.Now, VerifyTimeout: 0}
	}
	return r
}

func (f *incidentFixture) request() respond.Request {
	req := respond.Request{KeyID: f.key.ID, Apply: true, Quarantine: true}
	if f.env != "" {
		req.ReplaceTo = []string{"envfile:" + f.env}
	}
	return req
}

// replaced checks, with replacing, that the dotenv file holds a working key
// other than the exposed one, every other byte and its mode kept; that
// every key in IAM is the exposed key, the file's, or one a rotation
// journaled; and that no temporary file is left beside the file. After a
// fault (done false) the file may still hold the exposed key.
func (f *incidentFixture) replaced(t *testing.T, what string, done bool) {
	t.Helper()
	if f.env == "" {
		return
	}
	ctx := context.Background()
	data, err := os.ReadFile(f.env)
	if err != nil {
		t.Fatal(err)
	}
	id, sec, _ := strings.Cut(strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[1], "AWS_ACCESS_KEY_ID="), "\nAWS_SECRET_ACCESS_KEY=")
	sec, _, _ = strings.Cut(sec, "\n")
	if string(data) != envText(id, sec) {
		t.Fatalf("%s: the dotenv file changed outside its key:\n%s", what, data)
	}
	if st, err := os.Stat(f.env); err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("%s: the dotenv file's mode is not kept: %v", what, err)
	}
	if done && (id == f.key.ID || f.acct.Verify(ctx, credential.Key{ID: id, Secret: secret.New(sec)}).Status != credential.Active) {
		t.Fatalf("%s: the dotenv file holds %s, not a working replacement", what, id)
	}
	known := map[string]bool{f.key.ID: true, id: true}
	creating := false
	recs, _ := f.db.List(ctx, rotate.Kind, state.Filter{})
	for _, rec := range recs {
		r, _ := rotate.Load(rec)
		known[r.NewKeyID], creating = true, creating || r.Step == rotate.StepCreating
	}
	keys, _ := f.acct.ListKeys(ctx, "deploy")
	for _, k := range keys {
		if !known[k.ID] && !(creating && !done) {
			t.Fatalf("%s: key %s is in IAM and nothing knows it", what, k.ID)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(f.env)); len(entries) != 1 && done {
		t.Fatalf("%s: beside the dotenv file: %v", what, entries)
	}
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

// TestResponseUnderFaultsAtEveryStep fails or kills the response at every
// step in turn — each IAM call, before and after it takes effect, and each
// journal commit — then makes the operator's next move: respond again (the
// key ends contained), or undo straight away. Undoing every incident the
// runs journaled then puts the account back as it was: a fault never leaves
// a change that undo does not know of.
func TestResponseUnderFaultsAtEveryStep(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []struct {
		name string
		make func(*testing.T) *incidentFixture
	}{{"contain", newIncident}, {"contain and replace to a dotenv file", newReplacing}} {
		t.Run(kind.name, func(t *testing.T) {
			var steps []string
			{
				f := kind.make(t)
				s := &fault.Script{}
				if _, _, err := f.faulted(t, s); err != nil {
					t.Fatal(err)
				}
				steps = s.Steps()
				f.replaced(t, "without a fault", true)
			}
			t.Logf("%d steps: %s", len(steps), strings.Join(steps, ", "))
			for n := 1; n <= len(steps); n++ {
				for _, move := range []string{"fail, respond again", "kill, respond again", "kill, undo"} {
					what := fmt.Sprintf("%s at step %d (%s)", move, n, steps[n-1])
					f := kind.make(t)
					killed, rep, err := f.faulted(t, &fault.Script{N: n, Kill: move != "fail, respond again"})
					if !killed && err == nil && len(rep.Incomplete) == 0 {
						t.Fatalf("%s: the run went on as if nothing had failed", what)
					}
					f.replaced(t, what, false)
					if move != "kill, undo" {
						if _, err := f.responder().Run(ctx, f.request()); err != nil {
							t.Fatalf("%s: the second response failed: %v", what, err)
						}
						if active, revoked, q := f.contained(t); active || !revoked || !q {
							t.Fatalf("%s: after the second run active=%v revoked=%v quarantined=%v; want contained", what, active, revoked, q)
						}
						f.replaced(t, what+", responded again", true)
					}
					undoAll(t, f.db, f.responder())
					if active, revoked, q := f.contained(t); !active || revoked || q {
						t.Fatalf("%s: after undoing every incident active=%v revoked=%v quarantined=%v; want as before",
							what, active, revoked, q)
					}
					f.replaced(t, what+", undone", false)
				}
			}
		})
	}
}

// faulted responds with s answering every step: IAM calls and journal
// commits.
func (f *incidentFixture) faulted(t *testing.T, s *fault.Script) (killed bool, rep *respond.Report, err error) {
	fault.Set(t, s.Step)
	f.acct.Fail, f.acct.FailAfter = s.Step, s.After
	defer func() { f.acct.Fail, f.acct.FailAfter = nil, nil; fault.Set(t, nil) }()
	rep = &respond.Report{}
	killed, err = fault.Run(func() error {
		req := f.request()
		req.DisableConsole = true
		r, err := f.responder().Run(context.Background(), req)
		if r != nil {
			rep = r
		}
		return err
	})
	return killed, rep, err
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
