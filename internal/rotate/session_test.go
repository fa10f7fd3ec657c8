package rotate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/state"
)

// session is a Session against moto, whose user deploy's key profiles
// default and shared of a credentials file hold.
type session struct {
	*rotate.Session
	t        *testing.T
	srv      *awstest.MotoServer
	user     awstest.UserKey
	files    rotate.Files
	env      map[string]string
	out, err bytes.Buffer
	asked    []string // the MFA devices a code was asked for
}

func newSession(t *testing.T, config string) *session {
	t.Helper()
	srv := awstest.Moto(t)
	srv.SetEnv(t)
	srv.Reset(t)
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &session{t: t, srv: srv, user: srv.CreateUserKey(t, "deploy"), env: map[string]string{}}
	keys := "aws_access_key_id = " + s.user.KeyID + "\naws_secret_access_key = " + s.user.Secret.Reveal() + "\n"
	profiles, _ := sharedFiles(t, "[default]\n"+keys+"[shared]\n"+keys, config)
	s.files, _ = profiles.Files()
	profiles.Notes = &s.err
	s.Session = &rotate.Session{DB: db, Signers: rotateaws.Signers{Load: awsx.Load}, Profiles: profiles,
		Confirm: func(string) bool { return false },
		MFACode: func(serial string) (string, error) { s.asked = append(s.asked, serial); return "123456", nil },
		Getenv:  func(k string) string { return s.env[k] }, Out: &s.out, Err: &s.err, Now: time.Now,
		VerifyTimeout: 10 * time.Second, VerifyEvery: 100 * time.Millisecond}
	return s
}

func (s *session) credentials() string {
	data, err := os.ReadFile(s.files.Credentials)
	if err != nil {
		s.t.Fatal(err)
	}
	return string(data)
}

// keys is user's keys, id to active.
func (s *session) keys(user string) map[string]bool {
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	ks, err := rotateaws.New(cfg).ListKeys(context.Background(), user)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range ks {
		out[k.ID] = k.Active
	}
	return out
}

// newKey is the one key of user other than old.
func (s *session) newKey(user, old string) string {
	for id := range s.keys(user) {
		if id != old {
			return id
		}
	}
	s.t.Fatalf("%s has no new key", user)
	return ""
}

func TestSessionRotatesAProfileEverywhereItIsHeld(t *testing.T) {
	s := newSession(t, "")
	if err := s.RotateProfiles(context.Background(), []string{"default"}, rotate.Job{}); err != nil {
		t.Fatalf("%v\n%s%s", err, s.out.String(), s.err.String())
	}
	id := s.newKey("deploy", "")
	if got := s.keys("deploy"); len(got) != 1 || !got[id] {
		t.Errorf("IAM: want only %s, active; got %v", id, got)
	}
	if n := strings.Count(s.credentials(), "aws_access_key_id = "+id+"\n"); n != 2 {
		t.Errorf("want both profiles on the new key:\n%s", s.credentials())
	}
	if !strings.Contains(s.out.String(), "rotated profile default (user deploy): "+s.user.KeyID+" -> "+id+"; old key deleted\n") {
		t.Errorf("no outcome line:\n%s", s.out.String())
	}
	if s.err.Len() != 0 {
		t.Errorf("stderr: %s", s.err.String())
	}
}

func TestSessionGoesOnWhenOneProfileFails(t *testing.T) {
	s := newSession(t, "")
	err := s.RotateProfiles(context.Background(), []string{"nope", "default"}, rotate.Job{})
	if err == nil || err.Error() != "1 of 2 profiles not rotated: nope" {
		t.Errorf("got %v", err)
	}
	if !strings.HasPrefix(s.err.String(), `error: profile "nope" is not in `) ||
		!strings.Contains(s.out.String(), "rotated profile default") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", s.out.String(), s.err.String())
	}
	// Alone, a profile's error is the run's, as it was.
	if err := s.RotateProfiles(context.Background(), []string{"nope"}, rotate.Job{}); err == nil || !strings.HasPrefix(err.Error(), `profile "nope" is not in `) {
		t.Errorf("alone: %v", err)
	}
}

func TestSessionRunsEveryEntryOfAConfig(t *testing.T) {
	s := newSession(t, "")
	svc := s.srv.CreateUserKey(t, "svc")
	sink := filepath.Join(t.TempDir(), "svc.json")
	cfg, err := rotate.ParseConfig([]byte("rotations:\n  - profile: nope\n  - profile: default\n    grace: 0d\n"+
		"  - user: svc\n    to: [\"exec:cat > "+sink+"\"]\n"), "rotations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = s.RotateConfig(context.Background(), cfg, "rotations.yaml", rotate.Job{Grace: 7 * 24 * time.Hour})
	if err == nil || err.Error() != "1 of 3 rotations of rotations.yaml failed: profile nope" {
		t.Errorf("got %v", err)
	}
	if !strings.HasPrefix(s.err.String(), `error: rotations.yaml:2: profile "nope" is not in `) {
		t.Errorf("stderr:\n%s", s.err.String())
	}
	// The entry's grace wins over the flags'; the user's entry takes the flags'.
	if !strings.Contains(s.out.String(), "rotated profile default (user deploy): "+s.user.KeyID+" -> ") ||
		!strings.Contains(s.out.String(), "; old key deleted\n") || len(s.keys("deploy")) != 1 {
		t.Errorf("profile default: want its old key deleted (grace 0d):\n%s", s.out.String())
	}
	if got := s.keys("svc"); len(got) != 2 || got[svc.KeyID] || !strings.Contains(s.out.String(), "rotated user svc: "+svc.KeyID) {
		t.Errorf("user svc: want the old key inactive for the flags' grace, got %v:\n%s", got, s.out.String())
	}
	if data, err := os.ReadFile(sink); err != nil || !strings.Contains(string(data), `"UserName":"svc"`) {
		t.Errorf("the exec target got no credentials: %v %s", err, data)
	}
}

func TestSessionConfigSignsUserEntriesAsTheCaller(t *testing.T) {
	s := newSession(t, "")
	cfg, err := rotate.ParseConfig([]byte("rotations:\n  - user: svc\n    to: [\"exec:true\"]\n"), "rotations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = s.RotateConfig(context.Background(), cfg, "rotations.yaml", rotate.Job{Caller: "ops"})
	if err == nil || !strings.Contains(s.err.String(), "error: rotations.yaml:2: user svc: ") || !strings.Contains(s.err.String(), "ops") {
		t.Errorf("want the user entry signed as profile ops, which does not exist: %v\n%s", err, s.err.String())
	}
}

func TestSessionWarnsWhenTheEnvironmentHoldsAKey(t *testing.T) {
	s := newSession(t, "")
	s.env["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
	s.DryRun = true
	if err := s.Rotate(context.Background(), rotate.Job{Profile: "default"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.err.String(), "warning: AWS_ACCESS_KEY_ID is set in the environment") ||
		!strings.Contains(s.out.String(), "2. deliver it to credentials:default,shared") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", s.out.String(), s.err.String())
	}
}

func TestSessionAsksOneMFACodeAndNoneForADryRun(t *testing.T) {
	s := newSession(t, "[default]\nmfa_serial = arn:aws:iam::123456789012:mfa/deploy\n")
	s.DryRun = true
	if err := s.Rotate(context.Background(), rotate.Job{Profile: "default"}); err != nil || len(s.asked) != 0 {
		t.Fatalf("dry run: %v, asked %v", err, s.asked)
	}
	s.DryRun = false
	if err := s.Rotate(context.Background(), rotate.Job{Profile: "default"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"arn:aws:iam::123456789012:mfa/deploy"}, s.asked); diff != "" {
		t.Errorf("MFA codes asked (-want +got):\n%s", diff)
	}
	// The code is not given: nothing is created.
	s.MFACode = func(string) (string, error) { return "", errors.New("no code") }
	before := s.keys("deploy")
	if err := s.Rotate(context.Background(), rotate.Job{Profile: "default"}); err == nil || len(s.keys("deploy")) != len(before) {
		t.Errorf("no code: %v, keys %v", err, s.keys("deploy"))
	}
}

func TestSessionUndoPutsTheProfileBack(t *testing.T) {
	s := newSession(t, "")
	before := s.credentials()
	ctx := context.Background()
	if err := s.Rotate(ctx, rotate.Job{Profile: "shared", Grace: time.Hour}); err != nil {
		t.Fatal(err)
	}
	open, err := rotate.List(ctx, s.DB, true)
	if err != nil || len(open) != 1 || open[0].Step != rotate.StepDeactivated || open[0].Profile != "shared" {
		t.Fatalf("open rotations: %v %+v", err, open)
	}
	r, err := rotate.Pick(open, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	if s.credentials() != before || !s.keys("deploy")[s.user.KeyID] {
		t.Errorf("undo: want the file as before and the old key active:\n%s", s.credentials())
	}
	if !strings.HasSuffix(s.out.String(), "undid "+r.ID+": key "+s.user.KeyID+" of deploy is active again\n") {
		t.Errorf("stdout:\n%s", s.out.String())
	}
}

func TestSessionProfileNames(t *testing.T) {
	profiles, _ := sharedFiles(t, "[default]\n"+keyLines("a")+"[ci]\n"+keyLines("b")+"[alias]\n"+keyLines("a"), "")
	env := map[string]string{}
	s := &rotate.Session{Profiles: profiles, Getenv: func(k string) string { return env[k] }}
	names := func(named []string, all bool) []string {
		got, err := s.ProfileNames(named, all)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := names(nil, false); !cmp.Equal(got, []string{"default"}) {
		t.Errorf("none named: %v", got)
	}
	env["AWS_PROFILE"] = "ci"
	if got := names(nil, false); !cmp.Equal(got, []string{"ci"}) {
		t.Errorf("AWS_PROFILE: %v", got)
	}
	if got := names([]string{"x", "y"}, false); !cmp.Equal(got, []string{"x", "y"}) {
		t.Errorf("named: %v", got)
	}
	if got := names(nil, true); !cmp.Equal(got, []string{"default", "ci"}) {
		t.Errorf("all: %v", got)
	}
}

func TestOutcome(t *testing.T) {
	after := time.Date(2026, 11, 30, 16, 55, 33, 0, time.UTC)
	tests := []struct {
		r    rotate.Rotation
		want string
	}{
		{rotate.Rotation{Step: rotate.StepDone, OldKeyID: "OLD", NewKeyID: "NEW"}, "rotated user u: OLD -> NEW; old key deleted"},
		{rotate.Rotation{Step: rotate.StepDone, NewKeyID: "NEW"}, "rotated user u: (none) -> NEW; old key deleted"},
		{rotate.Rotation{Step: rotate.StepDeactivated, OldKeyID: "OLD", NewKeyID: "NEW", DeleteAfter: after},
			"rotated user u: OLD -> NEW; old key inactive until 2026-11-30T16:55:33Z, then the next 'keywarden rotate' deletes it"},
		{rotate.Rotation{Step: rotate.StepKept, OldKeyID: "OLD", NewKeyID: "NEW", Note: "used after"}, "rotated user u: OLD -> NEW; old key kept: used after"},
		{rotate.Rotation{Step: rotate.StepCreating}, ""},
	}
	for _, tt := range tests {
		if got := rotate.Outcome("user u", &tt.r); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.r.Step, got, tt.want)
		}
	}
}

func TestPick(t *testing.T) {
	open := []*rotate.Rotation{{ID: "rot-1"}, {ID: "rot-2"}}
	if r, err := rotate.Pick(open, ""); err != nil || r.ID != "rot-2" {
		t.Errorf("the most recent: %v, %v", r, err)
	}
	if r, err := rotate.Pick(open, "rot-1"); err != nil || r.ID != "rot-1" {
		t.Errorf("by id: %v, %v", r, err)
	}
	if _, err := rotate.Pick(open, "rot-3"); !errors.Is(err, rotate.ErrNoOpen) ||
		err.Error() != "no open rotation rot-3 ('keywarden rotate status --all' lists them)" {
		t.Errorf("an unknown id: %v", err)
	}
	if _, err := rotate.Pick(nil, ""); !errors.Is(err, rotate.ErrNoOpen) || err.Error() != "no open rotation to undo" {
		t.Errorf("none open: %v", err)
	}
}

func TestEntryJobTakesTheDefaultsItDoesNotSet(t *testing.T) {
	defaults := rotate.Job{Grace: 7 * 24 * time.Hour, IfOlderThan: 90 * 24 * time.Hour, Caller: "ops"}
	tests := []struct {
		e    rotate.Entry
		want rotate.Job
	}{
		{rotate.Entry{Profile: "p"}, rotate.Job{Profile: "p", Grace: defaults.Grace, IfOlderThan: defaults.IfOlderThan, Caller: "ops"}},
		{rotate.Entry{Profile: "p", GraceSet: true, MaxAge: time.Hour}, rotate.Job{Profile: "p", IfOlderThan: time.Hour, Caller: "ops"}},
		{rotate.Entry{User: "u", KeyID: "K", To: []string{"exec:true"}, Grace: time.Hour, GraceSet: true},
			rotate.Job{User: "u", KeyID: "K", To: []string{"exec:true"}, Grace: time.Hour, IfOlderThan: defaults.IfOlderThan, Caller: "ops"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.e.Job(defaults)); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.e, diff)
		}
	}
}

func TestCheckUserRefusesRootAndWhatIsNotAUser(t *testing.T) {
	tests := []struct {
		c    rotate.Caller
		want string
	}{
		{rotate.Caller{Account: "1", User: "deploy"}, ""},
		{rotate.Caller{Account: "1", ARN: "arn:aws:iam::1:root", Root: true},
			"profile p holds a root user key: delete it instead of rotating it (keywarden audit shows how)"},
		{rotate.Caller{Account: "1", ARN: "arn:aws:sts::1:assumed-role/r/s"},
			"profile p is arn:aws:sts::1:assumed-role/r/s, not an IAM user's long-term key"},
	}
	for _, tt := range tests {
		got := ""
		if err := rotate.CheckUser(tt.c, "profile p"); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
}

// TestRotateOwnKeyWithTheDocumentedPolicy rotates, against moto with IAM
// enforcement on, the key of a user holding only the actions of
// docs/policies/rotate-own-key.json, its ${aws:username} scope widened to
// "*" (awstest.DocumentedPolicy: moto matches resources against "*" alone).
// Without iam:GetAccessKeyLastUsed the same run fails, which shows the
// test can.
func TestRotateOwnKeyWithTheDocumentedPolicy(t *testing.T) {
	policy := awstest.DocumentedPolicy(t, "rotate-own-key.json")
	tests := []struct {
		user, policy string
		fails        string // what the error names; "": none
	}{
		{"dev", policy, ""},
		{"dev-short", strings.Replace(policy, `"iam:GetAccessKeyLastUsed"`, `"iam:GetUser"`, 1), "iam get-access-key-last-used"},
	}
	srv := awstest.MotoWithAuth(t)
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			srv.SetEnv(t)
			db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			user := srv.CreateUserKey(t, tt.user, tt.policy)
			profiles, _ := sharedFiles(t, "[default]\naws_access_key_id = "+user.KeyID+"\naws_secret_access_key = "+user.Secret.Reveal()+"\n", "")
			var out bytes.Buffer
			profiles.Notes = &out
			s := &rotate.Session{DB: db, Signers: rotateaws.Signers{Load: awsx.Load}, Profiles: profiles,
				Getenv: func(string) string { return "" }, Out: &out, Err: &out, Now: time.Now, VerifyTimeout: 10 * time.Second}
			err = s.Rotate(context.Background(), rotate.Job{Profile: "default"})
			if (err == nil) != (tt.fails == "") || err != nil && !strings.Contains(err.Error(), tt.fails) {
				t.Fatalf("got %v, want an error naming %q\n%s", err, tt.fails, out.String())
			}
		})
	}
}
