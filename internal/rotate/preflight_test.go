package rotate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/fault"
	"github.com/keywarden/keywarden/internal/iamfake"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/target"
)

// changes records every IAM call that changes something.
func changes(acct *iamfake.Account) *[]string {
	var seen []string
	acct.Fail = func(action string) error {
		switch action {
		case "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey":
			seen = append(seen, action)
		}
		return nil
	}
	return &seen
}

// noTokens is a target environment without any token set.
func noTokens(rt *rotate.Rotator) *rotate.Rotator {
	rt.Targets = rotate.Targets(target.Env{Getenv: func(string) string { return "" }}, nil)
	return rt
}

// TestRotateMissingTokenLeavesAnEarlierDeletionPending: a rotation that
// fails a cheap check (no GitHub token) changes nothing, not even an
// earlier rotation's due deletion of its old key, which stays undoable.
func TestRotateMissingTokenLeavesAnEarlierDeletionPending(t *testing.T) {
	f, acct := newFakeFixture(t)
	first, err := f.rotate(f.rotator(nil), f.request(24*time.Hour))
	if err != nil || first.Step != rotate.StepDeactivated {
		t.Fatalf("first rotation: %v, %v", first, err)
	}
	f.now = f.now.Add(48 * time.Hour) // its grace has ended
	req := f.request(0)
	req.OldKeyID, req.OldSecret = first.NewKeyID, f.newSecret(first)
	req.Targets = append(req.Targets, "github:acme/api")
	changed := changes(acct)
	dry := req
	dry.DryRun = true
	if _, err := f.rotate(noTokens(f.rotator(nil)), dry); err == nil || !strings.Contains(err.Error(), "no GitHub token") {
		t.Errorf("--dry-run must run the same checks: %v", err)
	}
	_, err = f.rotate(noTokens(f.rotator(nil)), req)
	if err == nil {
		t.Fatal("want a stop naming the missing token")
	}
	if !strings.Contains(err.Error(), "target github:acme/api: no GitHub token") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("the line must name the target and say nothing changed: %v", err)
	}
	if len(*changed) != 0 {
		t.Fatalf("IAM was changed before every check passed: %v", *changed)
	}
	open, _ := rotate.List(context.Background(), f.db, true)
	if len(open) != 1 || open[0].ID != first.ID || open[0].Step != rotate.StepDeactivated {
		t.Fatalf("the earlier rotation must stay pending: %+v", open)
	}
	acct.Fail = nil
	if err := f.rotator(nil).Undo(context.Background(), open[0]); err != nil {
		t.Fatalf("the earlier rotation must stay undoable: %v", err)
	}
	if got := f.keys(); !got[f.user.KeyID] {
		t.Errorf("undo: want the first key active again, got %v", got)
	}
}

// TestRotateRefusesAnInactiveKey: the profile's key is already inactive in
// IAM; rotating would hide that, so the run stops saying what to do.
func TestRotateRefusesAnInactiveKey(t *testing.T) {
	f, acct := newFakeFixture(t)
	if err := acct.SetActive(context.Background(), "deploy", f.user.KeyID, false); err != nil {
		t.Fatal(err)
	}
	changed := changes(acct)
	_, err := f.rotate(f.rotator(nil), f.request(0))
	if !errors.Is(err, rotate.ErrStopped) || !strings.Contains(err.Error(), "already inactive") || !strings.Contains(err.Error(), "--status Active") {
		t.Fatalf("want a stop saying the key is inactive and how to reactivate it, got %v", err)
	}
	if len(*changed) != 0 {
		t.Errorf("changes made: %v", *changed)
	}
}

// TestRotateTwoActiveKeysSaysWhichIsWhich: the stop names the key in the
// file, the one not known locally, and each one's last use.
func TestRotateTwoActiveKeysSaysWhichIsWhich(t *testing.T) {
	f, acct := newFakeFixture(t)
	other, _, err := acct.CreateKey(context.Background(), "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if err := acct.Use(other.ID, "s3", "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	_, err = f.rotate(f.rotator(nil), f.request(0))
	if !errors.Is(err, rotate.ErrStopped) {
		t.Fatalf("want a stop, got %v", err)
	}
	day := f.now.UTC().Format(time.DateOnly)
	for _, want := range []string{
		f.user.KeyID + " (the one in credentials:default,ci; never used)",
		other.ID + " (not known locally; last used " + day + " (s3, eu-west-1))",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the stop must say %q:\n%v", want, err)
		}
	}
}

// TestRotateChecksTheFileIsWritable: a credentials file this user cannot
// replace stops the run before any key is created. Root writes anywhere,
// so the check is injected here; TestWritable* test the real probe.
func TestRotateChecksTheFileIsWritable(t *testing.T) {
	f, acct := newFakeFixture(t)
	changed := changes(acct)
	rt := f.rotator(nil)
	rt.Writable = func(string) error { return errors.New("not writable by this user: permission denied") }
	_, err := f.rotate(rt, f.request(0))
	if err == nil || !strings.Contains(err.Error(), "target credentials:default,ci: "+f.creds+": not writable by this user") {
		t.Fatalf("want a line naming the file, got %v", err)
	}
	if len(*changed) != 0 {
		t.Errorf("changes made: %v", *changed)
	}
}

// TestRotateRollsBackWhenTheFileTurnsUnwritable: the file passes the check
// but cannot be written once the new key exists (here it became a
// directory): the rotation rolls back, it does not carry on.
func TestRotateRollsBackWhenTheFileTurnsUnwritable(t *testing.T) {
	f, acct := newFakeFixture(t)
	before, _ := os.ReadFile(f.creds)
	aside := f.creds + ".aside"
	acct.FailAfter = func(action string) error {
		if action == "iam:CreateAccessKey" {
			if err := os.Rename(f.creds, aside); err != nil {
				return err
			}
			return os.Mkdir(f.creds, 0o700)
		}
		return nil
	}
	r, err := f.rotate(f.rotator(nil), f.request(0))
	acct.FailAfter = nil
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("want a rollback, got %v", err)
	}
	if r.Step != rotate.StepRolledBack {
		t.Errorf("step %s, want rolled-back", r.Step)
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{f.user.KeyID: true}) {
		t.Errorf("want only the old key, active: %v", got)
	}
	if after, _ := os.ReadFile(aside); !bytes.Equal(before, after) {
		t.Errorf("the file was changed")
	}
}

// refusing is an IAM whose STS never accepts a key: IAM propagation that
// does not end within --verify-timeout.
type refusing struct{ rotate.IAM }

func (refusing) Verify(_ context.Context, k credential.Key) credential.Result {
	return credential.Result{Status: credential.Invalid, Err: fmt.Errorf("check key %s: sts: InvalidClientTokenId", k.ID)}
}

// checkRolledBack: only the old key, active; the file byte-identical;
// every rotation closed as rolled-back, its secrets gone.
func (f *fixture) checkRolledBack(before []byte, what string) {
	f.t.Helper()
	if got := f.keys(); !equalKeys(got, map[string]bool{f.user.KeyID: true}) {
		f.t.Fatalf("%s: want only the old key, active: %v", what, got)
	}
	if after, _ := os.ReadFile(f.creds); !bytes.Equal(before, after) {
		f.t.Fatalf("%s: the credentials file is not byte-identical:\n%q", what, after)
	}
	all, _ := rotate.List(context.Background(), f.db, false)
	for _, r := range all {
		if r.Step != rotate.StepRolledBack {
			f.t.Fatalf("%s: rotation %s is %s, want rolled-back", what, r.ID, r.Step)
		}
		if s, _ := f.db.Secret(context.Background(), r.ID, rotate.SecretNew); !s.IsZero() {
			f.t.Fatalf("%s: a rolled-back rotation keeps the new secret", what)
		}
	}
}

func TestRotateRollsBackWhenTheNewKeyNeverVerifies(t *testing.T) {
	for _, backend := range []string{"fake", "moto"} {
		t.Run(backend, func(t *testing.T) {
			var f *fixture
			if backend == "moto" {
				f = newFixture(t)
			} else {
				f, _ = newFakeFixture(t)
			}
			before, _ := os.ReadFile(f.creds)
			rt := f.rotator(refusing{f.admin})
			rt.VerifyTimeout = 0
			r, err := f.rotate(rt, f.request(0))
			if !errors.Is(err, rotate.ErrStopped) || !strings.Contains(err.Error(), "--verify-timeout") || !strings.Contains(err.Error(), "rolled back") {
				t.Fatalf("want a rollback naming --verify-timeout, got %v", err)
			}
			if r.Step != rotate.StepRolledBack || !strings.Contains(r.Note, "new key "+r.NewKeyID+" deleted") {
				t.Errorf("journal: %s %q", r.Step, r.Note)
			}
			f.checkRolledBack(before, "after the rollback")
			var table bytes.Buffer
			all, _ := rotate.List(context.Background(), f.db, false)
			if err := rotate.WriteTable(&table, all); err != nil || !strings.Contains(table.String(), "rolled-back") {
				t.Errorf("status --all must show it rolled back:\n%s", table.String())
			}
		})
	}
}

// TestRotateRollbackKilledAtAnyStepEndsRolledBack kills a rotation whose
// new key never verifies at every step — each IAM call, before and after it
// takes effect, and each journal commit, fsync, rename and backup (the
// fault seam) — of the rotation and of its rollback; the next run (still
// refused) ends with the old key alone, active, the file byte-identical,
// nothing open.
func TestRotateRollbackKilledAtAnyStepEndsRolledBack(t *testing.T) {
	count := &fault.Script{}
	{
		f, acct := newFakeFixture(t)
		acct.Fail, acct.FailAfter = count.Step, count.After
		fault.Set(t, count.Step)
		rt := f.rotator(refusing{acct})
		rt.VerifyTimeout = 0
		if _, err := f.rotate(rt, f.request(0)); err == nil || len(count.Steps()) == 0 {
			t.Fatalf("an uncrashed rotation: %v, steps %v", err, count.Steps())
		}
		fault.Set(t, nil)
	}
	steps := count.Steps()
	t.Logf("%d steps, each killed: %v", len(steps), steps)
	for n := 1; n <= len(steps); n++ {
		what := fmt.Sprintf("kill at step %d (%s)", n, steps[n-1])
		f, acct := newFakeFixture(t)
		before, _ := os.ReadFile(f.creds)
		kill := &fault.Script{N: n, Kill: true}
		acct.Fail, acct.FailAfter = kill.Step, kill.After
		fault.Set(t, kill.Step)
		rt := f.rotator(refusing{acct})
		rt.VerifyTimeout = 0
		if killed, _ := fault.Run(func() error { _, err := f.rotate(rt, f.request(0)); return err }); !killed {
			t.Fatalf("%s: the run was not killed", what)
		}
		fault.Set(t, nil)
		acct.Fail, acct.FailAfter = nil, nil
		rt = f.rotator(refusing{acct})
		rt.VerifyTimeout = 0
		if _, err := f.rotate(rt, f.request(0)); err == nil || !strings.Contains(err.Error(), "rolled back") {
			t.Fatalf("%s: the second run: want a rollback, got %v\n%s", what, err, f.out.String())
		}
		f.checkRolledBack(before, what)
	}
}
