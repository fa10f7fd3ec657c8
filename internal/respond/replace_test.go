package respond

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/state"
)

// ownerIAM is respond's IAM over the keys of one user, deploy, in memory:
// enough for Run to identify, plan and contain.
type ownerIAM struct{ active map[string]bool }

func (o *ownerIAM) KeyOwner(_ context.Context, keyID string) (KeyOwner, error) {
	active, ok := o.active[keyID]
	if !ok {
		return KeyOwner{}, fmt.Errorf("key %s: %w", keyID, ErrNoSuchKey)
	}
	status := "Inactive"
	if active {
		status = "Active"
	}
	return KeyOwner{User: "deploy", Account: "123456789012", Status: status}, nil
}

func (o *ownerIAM) UserPolicies(context.Context, string) (UserPolicies, error) {
	return UserPolicies{}, nil
}

func (o *ownerIAM) SetActive(_ context.Context, _, keyID string, active bool) error {
	o.active[keyID] = active
	return nil
}

func (o *ownerIAM) PutRevokeSessions(context.Context, string, time.Time) error { return nil }
func (o *ownerIAM) DeleteRevokeSessions(context.Context, string) error         { return nil }
func (o *ownerIAM) AttachQuarantine(context.Context, string) error             { return nil }
func (o *ownerIAM) DetachQuarantine(context.Context, string) error             { return nil }
func (o *ownerIAM) DisableConsole(context.Context, string) (bool, error)       { return false, nil }

// rotations records the rotations asked of it and answers with a new key;
// a dry run (rotate's checks) is recorded in checked, and fails with
// checkErr.
type rotations struct {
	asked, checked []rotate.Request
	err, checkErr  error
}

func (r *rotations) Rotate(_ context.Context, req rotate.Request) (*rotate.Rotation, error) {
	if req.DryRun {
		r.checked = append(r.checked, req)
		if r.checkErr != nil {
			return nil, r.checkErr
		}
		return &rotate.Rotation{}, nil
	}
	r.asked = append(r.asked, req)
	if r.err != nil {
		return nil, r.err
	}
	return &rotate.Rotation{NewKeyID: awstest.FakeKeyID(fmt.Sprint("new", len(r.asked)), 123456789012)}, nil
}

func testResponder(t *testing.T, keys ...string) (*Responder, *rotations) {
	t.Helper()
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	iam := &ownerIAM{active: map[string]bool{}}
	for _, k := range keys {
		iam.active[k] = true
	}
	rot := &rotations{}
	return &Responder{IAM: iam, DB: db, Rotator: rot, Now: func() time.Time { return reviewEpoch.Add(time.Hour) }}, rot
}

func TestRunReplacesTheExposedKeyWithAGrace(t *testing.T) {
	key := awstest.FakeKeyID("exposed", 123456789012)
	r, rot := testResponder(t, key)
	ctx := context.Background()
	rep, err := r.Run(ctx, Request{KeyID: key, ReplaceTo: []string{"envfile:app.env"}})
	if err != nil || len(rot.asked) != 0 || rep.Replacement != "" {
		t.Fatalf("a plan replaces nothing: %v, %v", err, rot.asked)
	}
	rep, err = r.Run(ctx, Request{KeyID: key, Apply: true, ReplaceTo: []string{"envfile:app.env", "ssm:/ci/key"}})
	if err != nil {
		t.Fatal(err)
	}
	want := rotate.Request{Account: "123456789012", User: "deploy", OldKeyID: key, Targets: []string{"envfile:app.env", "ssm:/ci/key"}, Grace: 30 * 24 * time.Hour}
	if len(rot.asked) != 1 || !equalRotation(rot.asked[0], want) {
		t.Errorf("rotations %+v, want %+v", rot.asked, want)
	}
	if rep.Replacement != awstest.FakeKeyID("new1", 123456789012) || !rep.Applied {
		t.Errorf("the report: replacement %q, applied %v", rep.Replacement, rep.Applied)
	}
	rot.err = errors.New("target unreachable")
	if _, err := r.Run(ctx, Request{KeyID: key, Apply: true, ReplaceTo: []string{"envfile:app.env"}}); err == nil ||
		err.Error() != "replace "+key+": target unreachable" {
		t.Errorf("a failed replacement: %v", err)
	}
}

// TestRunChecksTheReplacementBeforeTheFirstChange: a replacement rotate's
// checks refuse (a target this user cannot write, no room for a key) stops
// the response before anything is contained or journaled, with or without
// --apply, and says that nothing changed.
func TestRunChecksTheReplacementBeforeTheFirstChange(t *testing.T) {
	key := awstest.FakeKeyID("exposed", 123456789012)
	r, rot := testResponder(t, key)
	rot.checkErr = errors.New("target envfile:/ro/app.env: /ro/app.env is not writable by this user")
	ctx := context.Background()
	for _, apply := range []bool{false, true} {
		rep, err := r.Run(ctx, Request{KeyID: key, Apply: apply, ReplaceTo: []string{"envfile:/ro/app.env"}})
		want := "replace " + key + ": target envfile:/ro/app.env: /ro/app.env is not writable by this user" +
			"; nothing was contained: fix it, or run without --replace-to to contain at once"
		if err == nil || err.Error() != want {
			t.Fatalf("apply %v: err = %v\nwant %s", apply, err, want)
		}
		if !r.IAM.(*ownerIAM).active[key] || rep.Applied || rep.Incident != "" || len(rep.Journal) != 0 || len(rot.asked) != 0 {
			t.Errorf("apply %v: a refused replacement changed something: active %v, applied %v, incident %q, rotations %v",
				apply, r.IAM.(*ownerIAM).active[key], rep.Applied, rep.Incident, rot.asked)
		}
		if st, ok := stepOf(rep.Steps, "replace"); !ok || st.Status != StepFailed {
			t.Errorf("apply %v: replace step %+v, want failed", apply, st)
		}
	}
	if len(rot.checked) != 2 || !equalRotation(rot.checked[0], rotate.Request{Account: "123456789012", User: "deploy", OldKeyID: key,
		Targets: []string{"envfile:/ro/app.env"}, Grace: ReplaceGrace}) {
		t.Errorf("checks asked %+v, want one dry run of the replacement per response", rot.checked)
	}
}

func equalRotation(a, b rotate.Request) bool {
	return a.Account == b.Account && a.User == b.User && a.OldKeyID == b.OldKeyID && slices.Equal(a.Targets, b.Targets) && a.Grace == b.Grace
}

func TestRunReplacesTheParentOfATemporaryKey(t *testing.T) {
	parent := awstest.FakeKeyID("parent", 123456789012)
	asia := awstest.FakeSessionKeyID("minted", 123456789012)
	r, rot := testResponder(t, parent)
	dir, _ := trailDir(t, minting("mint", parent, asia, 5))
	r.Events = &Sources{Logs: []string{dir}}
	rep, err := r.Run(context.Background(), Request{KeyID: asia, Since: 24 * time.Hour, Apply: true, ReplaceTo: []string{"envfile:app.env"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.MintedBy != parent || len(rot.asked) != 1 || rot.asked[0].OldKeyID != parent {
		t.Errorf("minted by %q, rotations %+v: want the parent %s contained and replaced", rep.MintedBy, rot.asked, parent)
	}
}

func TestRunAllReportsEachKeyAndStopsAtTheFirstError(t *testing.T) {
	k1, k2, k3 := awstest.FakeKeyID("one", 123456789012), awstest.FakeKeyID("two", 123456789012), awstest.FakeKeyID("three", 123456789012)
	r, rot := testResponder(t, k1, k2, k3)
	var reported []string
	report := func(rep *Report) error { reported = append(reported, rep.KeyID); return nil }
	if err := r.RunAll(context.Background(), []string{k1, k2}, Request{}, report); err != nil || !slices.Equal(reported, []string{k1, k2}) {
		t.Fatalf("reports %v, %v; want one per key", reported, err)
	}
	reported = nil
	rot.err = errors.New("target unreachable")
	err := r.RunAll(context.Background(), []string{k1, k2, k3}, Request{Apply: true, ReplaceTo: []string{"envfile:x"}}, report)
	if err == nil || !slices.Equal(reported, []string{k1}) {
		t.Errorf("reports %v, %v; want the failed response reported, and no other run", reported, err)
	}
	broken := errors.New("disk full")
	if err := r.RunAll(context.Background(), []string{k2}, Request{}, func(*Report) error { return broken }); !errors.Is(err, broken) {
		t.Errorf("a report that cannot be written: %v", err)
	}
}
