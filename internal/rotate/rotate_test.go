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

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/iamfake"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/secret"
	"github.com/keywarden/keywarden/internal/state"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const account = "123456789012" // moto's

// fixture is a moto user with one key, held by two profiles of a
// credentials file that also has an unrelated profile, CRLF line endings
// and comments.
type fixture struct {
	t     *testing.T
	admin rotate.IAM
	db    *state.DB
	user  awstest.UserKey
	creds string // the credentials file
	out   bytes.Buffer
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := awstest.Moto(t)
	srv.SetEnv(t)
	srv.Reset(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return withFile(t, &fixture{t: t, admin: rotateaws.New(cfg), db: db, user: srv.CreateUserKey(t, "deploy")})
}

// newFakeFixture is newFixture on an IAM account in memory (iamfake, which
// the conformance suite holds to moto's and AWS's behaviour): for the tests
// that rotate hundreds of times.
func newFakeFixture(t *testing.T) (*fixture, *iamfake.Account) {
	t.Helper()
	db, err := state.Open(filepath.Join(awstest.MemDir(t), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	acct := iamfake.New(account)
	if err := acct.CreateUser("deploy"); err != nil {
		t.Fatal(err)
	}
	k, _, err := acct.CreateKey(context.Background(), "deploy")
	if err != nil {
		t.Fatal(err)
	}
	user := awstest.UserKey{User: "deploy", ARN: "arn:aws:iam::" + account + ":user/deploy", KeyID: k.ID, Secret: k.Secret}
	return withFile(t, &fixture{t: t, admin: acct, db: db, user: user}), acct
}

// withFile writes the fixture's credentials file, holding its user's key.
func withFile(t *testing.T, f *fixture) *fixture {
	t.Helper()
	f.creds, f.now = filepath.Join(awstest.MemDir(t), "credentials"), time.Now()
	if err := os.WriteFile(f.creds, []byte(f.credentialsFile(f.user.KeyID, f.user.Secret.Reveal())), 0o640); err != nil {
		t.Fatal(err)
	}
	return f
}

// credentialsFile is the fixture's file with profiles default and ci
// holding id/secret.
func (f *fixture) credentialsFile(id, sec string) string {
	return "# team keys\r\n[default]\r\naws_access_key_id = " + id + "\r\naws_secret_access_key = " + sec +
		"\r\n\r\n[other]\r\naws_access_key_id=" + awstest.FakeKeyID("other", 111122223333) +
		"\r\naws_secret_access_key=" + awstest.FakeSecret("other") +
		"\r\n\r\n[ci]\r\n\taws_access_key_id\t= " + id + "\r\n\taws_secret_access_key\t= " + sec
}

func (f *fixture) rotator(iam rotate.IAM) *rotate.Rotator {
	if iam == nil {
		iam = f.admin
	}
	return &rotate.Rotator{IAM: iam, DB: f.db, Targets: rotate.Targets(target.Env{}, nil), Out: &f.out,
		Confirm: func(string) bool { return false }, Now: func() time.Time { return f.now },
		VerifyTimeout: 5 * time.Second, VerifyEvery: 100 * time.Millisecond}
}

func (f *fixture) request(grace time.Duration) rotate.Request {
	return rotate.Request{Account: account, User: "deploy", OldKeyID: f.user.KeyID, OldSecret: f.user.Secret,
		Targets: []string{rotate.SharedFileSpec(0, []string{"default", "ci"})}, Grace: grace, Files: rotate.Files{Credentials: f.creds}}
}

// rotate runs a request with the credentials file journaled.
func (f *fixture) rotate(rt *rotate.Rotator, req rotate.Request) (*rotate.Rotation, error) {
	r, err := rt.Rotate(context.Background(), req)
	return r, err
}

// keys lists the user's keys as "ID:Active|Inactive".
func (f *fixture) keys() map[string]bool {
	f.t.Helper()
	ks, err := f.admin.ListKeys(context.Background(), "deploy")
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range ks {
		out[k.ID] = k.Active
	}
	return out
}

// fileKey is the key id profile default holds now, and whether the whole
// file is the fixture's file with that key.
func (f *fixture) fileKey(sec secret.Secret) (string, bool) {
	f.t.Helper()
	data, err := os.ReadFile(f.creds)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\r\n") {
		if id, ok := strings.CutPrefix(line, "aws_access_key_id = "); ok {
			return id, string(data) == f.credentialsFile(id, sec.Reveal())
		}
	}
	return "", false
}

func (f *fixture) newSecret(r *rotate.Rotation) secret.Secret {
	f.t.Helper()
	// The journal drops the new secret after deactivation; the file has it.
	data, _ := os.ReadFile(f.creds)
	for _, line := range strings.Split(string(data), "\r\n") {
		if v, ok := strings.CutPrefix(line, "aws_secret_access_key = "); ok {
			return secret.New(v)
		}
	}
	f.t.Fatal("no secret in the credentials file")
	return secret.Secret{}
}

func TestRotateWithoutGraceReplacesTheKeyEverywhere(t *testing.T) {
	f := newFixture(t)
	r, err := f.rotate(f.rotator(nil), f.request(0))
	if err != nil {
		t.Fatalf("rotate: %v\n%s", err, f.out.String())
	}
	if r.Step != rotate.StepDone {
		t.Errorf("step: want done, got %s", r.Step)
	}
	if got := f.keys(); len(got) != 1 || !got[r.NewKeyID] {
		t.Errorf("keys: want only the new key %s, active; got %v", r.NewKeyID, got)
	}
	id, same := f.fileKey(f.newSecret(r))
	if id != r.NewKeyID || !same {
		t.Errorf("credentials file: want both profiles on %s and every other byte kept; got %s (rest identical: %v)", r.NewKeyID, id, same)
	}
	if st, _ := os.Stat(f.creds); st.Mode().Perm() != 0o640 {
		t.Errorf("file mode: want 0640 kept, got %v", st.Mode().Perm())
	}
	if r.Backup != "" {
		if _, err := os.Stat(r.Backup); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("backup %s should be removed once the old key is deleted: %v", r.Backup, err)
		}
	}
	if s, _ := f.db.Secret(context.Background(), r.ID, rotate.SecretNew); !s.IsZero() {
		t.Error("the journal still holds the new secret after the rotation closed")
	}
}

func TestRotateWithGraceDeactivatesThenDeletesWhenDue(t *testing.T) {
	f := newFixture(t)
	r, err := f.rotate(f.rotator(nil), f.request(7*24*time.Hour))
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	want := map[string]bool{f.user.KeyID: false, r.NewKeyID: true}
	if got := f.keys(); !equalKeys(got, want) {
		t.Fatalf("after rotation: want old inactive and new active %v, got %v", want, got)
	}
	if _, err := os.Stat(r.Backup); err != nil {
		t.Errorf("the backup must be kept during the grace period: %v", err)
	}
	// Six days later nothing is due; eight days later the old key goes.
	f.now = f.now.Add(6 * 24 * time.Hour)
	if done, err := f.rotator(nil).DeleteDue(context.Background(), account, "deploy"); err != nil || len(done) != 0 {
		t.Fatalf("day 6: want nothing due, got %d, %v", len(done), err)
	}
	f.now = f.now.Add(2 * 24 * time.Hour)
	done, err := f.rotator(nil).DeleteDue(context.Background(), account, "deploy")
	if err != nil || len(done) != 1 || done[0].Step != rotate.StepDone {
		t.Fatalf("day 8: want the rotation done, got %v, %v", done, err)
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{r.NewKeyID: true}) {
		t.Errorf("day 8: want only the new key, got %v", got)
	}
}

// usedIAM reports every key as used at a fixed time: moto does not record
// key use.
type usedIAM struct {
	rotate.IAM
	at time.Time
}

func (u usedIAM) LastUsed(context.Context, string) (rotate.KeyUse, error) {
	return rotate.KeyUse{At: u.at, Service: "s3", Region: "eu-west-1"}, nil
}

func TestRotateKeepsAnOldKeyUsedAfterDeactivation(t *testing.T) {
	f := newFixture(t)
	r, err := f.rotate(f.rotator(nil), f.request(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(48 * time.Hour)
	rt := f.rotator(usedIAM{f.admin, r.DeactivatedAt.Add(time.Hour)})
	done, err := rt.DeleteDue(context.Background(), account, "deploy")
	if err != nil || len(done) != 1 || done[0].Step != rotate.StepKept {
		t.Fatalf("want the rotation kept, got %v, %v", done, err)
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{f.user.KeyID: false, r.NewKeyID: true}) {
		t.Errorf("the old key must not be deleted: %v", got)
	}
	if !strings.Contains(f.out.String(), "(s3, eu-west-1), after it was deactivated") {
		t.Errorf("the run must say why it kept the key:\n%s", f.out.String())
	}
}

func equalKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRotateRespectsTheTwoKeyLimit(t *testing.T) {
	f := newFixture(t)
	second, _, err := f.admin.CreateKey(context.Background(), "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.rotate(f.rotator(nil), f.request(0)); !errors.Is(err, rotate.ErrStopped) || !strings.Contains(err.Error(), "two active keys") {
		t.Fatalf("two active keys: want a stop naming them, got %v", err)
	}
	if len(f.keys()) != 2 {
		t.Fatalf("no key may be created or deleted: %v", f.keys())
	}
	// Deactivated, the second key may go, with consent only.
	if err := f.admin.SetActive(context.Background(), "deploy", second.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rotate(f.rotator(nil), f.request(0)); !errors.Is(err, rotate.ErrStopped) {
		t.Fatalf("declined: want a stop, got %v", err)
	}
	rt := f.rotator(nil)
	var asked []string
	rt.Confirm = func(q string) bool { asked = append(asked, q); return true }
	r, err := f.rotate(rt, f.request(0))
	if err != nil {
		t.Fatalf("consented: %v", err)
	}
	if len(asked) != 1 || !strings.Contains(asked[0], second.ID) {
		t.Errorf("want one question naming %s, got %q", second.ID, asked)
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{r.NewKeyID: true}) {
		t.Errorf("want only the new key, got %v", got)
	}
}

func TestRotateIfOlderThanSkipsAFreshKey(t *testing.T) {
	f := newFixture(t)
	req := f.request(0)
	req.IfOlderThan = 90 * 24 * time.Hour
	if _, err := f.rotate(f.rotator(nil), req); !errors.Is(err, rotate.ErrNotDue) {
		t.Fatalf("want ErrNotDue, got %v", err)
	}
	f.now = f.now.Add(91 * 24 * time.Hour)
	if _, err := f.rotate(f.rotator(nil), req); err != nil {
		t.Fatalf("91 days later: %v", err)
	}
}

func TestRotateDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	req := f.request(0)
	req.DryRun = true
	before, _ := os.ReadFile(f.creds)
	if _, err := f.rotate(f.rotator(nil), req); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(f.creds)
	if !bytes.Equal(before, after) || len(f.keys()) != 1 {
		t.Error("a dry run changed the file or the keys")
	}
	recs, _ := f.db.List(context.Background(), rotate.Kind, state.Filter{})
	if !strings.Contains(f.out.String(), "checked: credentials:default,ci: "+f.creds+" writable") ||
		!strings.Contains(f.out.String(), "checked: old key "+f.user.KeyID+" is active") {
		t.Errorf("a dry run must report the checks a run makes first:\n%s", f.out.String())
	}
	if len(recs) != 0 || !strings.Contains(f.out.String(), "deliver it to credentials:default,ci") {
		t.Errorf("want a plan and no journal; got %d records and:\n%s", len(recs), f.out.String())
	}
}

func TestRotateRollsBackWhenATargetFails(t *testing.T) {
	f := newFixture(t)
	env := filepath.Join(t.TempDir(), "app.env")
	envBefore := "# app\nAWS_ACCESS_KEY_ID=" + f.user.KeyID + "\nREGION=eu-west-1\n"
	if err := os.WriteFile(env, []byte(envBefore), 0o600); err != nil {
		t.Fatal(err)
	}
	credsBefore, _ := os.ReadFile(f.creds)
	req := f.request(0)
	req.Targets = append(req.Targets, "envfile:"+env, "exec:echo refused >&2; exit 3")
	r, err := f.rotate(f.rotator(nil), req)
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("want a rollback, got %v", err)
	}
	if r.Step != rotate.StepRolledBack {
		t.Errorf("step: want rolled-back, got %s", r.Step)
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{f.user.KeyID: true}) {
		t.Errorf("want only the old key, active; got %v", got)
	}
	credsAfter, _ := os.ReadFile(f.creds)
	envAfter, _ := os.ReadFile(env)
	if !bytes.Equal(credsBefore, credsAfter) || string(envAfter) != envBefore {
		t.Errorf("targets must be restored byte for byte:\n%q\n%q", credsAfter, envAfter)
	}
}

func TestRotateStuckOnAnUnrestorableTargetResumesOnceFixed(t *testing.T) {
	f := newFixture(t)
	flag := filepath.Join(t.TempDir(), "ready")
	sink := filepath.Join(t.TempDir(), "sink.json")
	req := f.request(0)
	req.Targets = []string{"exec:cat > " + sink, "exec:test -f " + flag}
	_, err := f.rotate(f.rotator(nil), req)
	if err == nil || !strings.Contains(err.Error(), "both keys stay active") {
		t.Fatalf("want a stuck rotation, got %v", err)
	}
	if got := f.keys(); len(got) != 2 {
		t.Fatalf("both keys must stay: %v", got)
	}
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := f.rotate(f.rotator(nil), req)
	if err != nil || r.Step != rotate.StepDone {
		t.Fatalf("after the fix: want done, got %v, %v\n%s", r, err, f.out.String())
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{r.NewKeyID: true}) {
		t.Errorf("want only the new key, got %v", got)
	}
}

func TestUndoPutsTheOldKeyBack(t *testing.T) {
	f := newFixture(t)
	credsBefore, _ := os.ReadFile(f.creds)
	r, err := f.rotate(f.rotator(nil), f.request(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.rotator(nil).Undo(context.Background(), r); err != nil {
		t.Fatalf("undo: %v", err)
	}
	if got := f.keys(); !equalKeys(got, map[string]bool{f.user.KeyID: true, r.NewKeyID: false}) {
		t.Errorf("want the old key active and the new inactive, got %v", got)
	}
	credsAfter, _ := os.ReadFile(f.creds)
	if !bytes.Equal(credsBefore, credsAfter) {
		t.Errorf("the file must hold the old key again, byte for byte:\n%q", credsAfter)
	}
	if err := f.rotator(nil).Undo(context.Background(), r); !errors.Is(err, rotate.ErrStopped) {
		t.Errorf("a second undo: want a stop, got %v", err)
	}
}
