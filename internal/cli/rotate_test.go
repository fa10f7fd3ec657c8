package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
)

// rotateEnv is a moto user whose key two profiles of the credentials file
// share, beside an unrelated profile, and a private state database.
type rotateEnv struct {
	t     *testing.T
	srv   *awstest.MotoServer
	key   awstest.UserKey
	creds string
	admin *rotateaws.IAM
}

func newRotateEnv(t *testing.T) *rotateEnv {
	t.Helper()
	srv := awstest.Moto(t)
	srv.SetEnv(t)
	srv.Reset(t)
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	e := &rotateEnv{t: t, srv: srv, key: srv.CreateUserKey(t, "deploy"), creds: os.Getenv("AWS_SHARED_CREDENTIALS_FILE")}
	cfg, err := awsx.Load(context.Background(), awsx.Options{}) // moto's admin, for checking
	if err != nil {
		t.Fatal(err)
	}
	e.admin = rotateaws.New(cfg)
	os.Unsetenv("AWS_ACCESS_KEY_ID") // the profile, not the environment, holds the key
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	e.write(e.file(e.key.KeyID, e.key.Secret.Reveal()))
	return e
}

func (e *rotateEnv) file(id, sec string) string {
	return "# work\n[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\nregion = us-east-1\n\n" +
		"[unrelated]\naws_access_key_id = " + awstest.FakeKeyID("unrelated", 111122223333) + "\naws_secret_access_key = " +
		awstest.FakeSecret("unrelated") + "\n\n[shared]\naws_access_key_id=" + id + "\naws_secret_access_key=" + sec
}

func (e *rotateEnv) write(body string) {
	if err := os.WriteFile(e.creds, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *rotateEnv) read() string {
	data, err := os.ReadFile(e.creds)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(data)
}

// keys is the user's keys, id to active, as IAM lists them (moto accepts
// inactive keys, so status is read, not tried).
func (e *rotateEnv) keys() map[string]bool {
	ks, err := e.admin.ListKeys(context.Background(), "deploy")
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range ks {
		out[k.ID] = k.Active
	}
	return out
}

func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	return stdout.String(), stderr.String(), code
}

// newKeyOf finds the key id that replaced old in the file's default profile.
func newKeyOf(t *testing.T, body string) (string, string) {
	t.Helper()
	var id, sec string
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "aws_access_key_id = "); ok && id == "" {
			id = v
		}
		if v, ok := strings.CutPrefix(line, "aws_secret_access_key = "); ok && sec == "" {
			sec = v
		}
	}
	return id, sec
}

func TestRotateProfileEndToEnd(t *testing.T) {
	e := newRotateEnv(t)
	stdout, stderr, code := runMain(t, "rotate", "--grace", "0")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	body := e.read()
	id, sec := newKeyOf(t, body)
	if id == e.key.KeyID || body != e.file(id, sec) {
		t.Fatalf("want both profiles on a new key and nothing else changed; file:\n%s", body)
	}
	if got := e.keys(); len(got) != 1 || !got[id] {
		t.Errorf("IAM: want only %s, active; got %v", id, got)
	}
	if !strings.Contains(stdout, "rotated profile default (user deploy): "+e.key.KeyID+" -> "+id+"; old key deleted") {
		t.Errorf("stdout does not report the rotation:\n%s", stdout)
	}
	if strings.Contains(stdout+stderr, sec) || strings.Contains(stdout+stderr, e.key.Secret.Reveal()) {
		t.Error("a secret was printed")
	}
	// Nothing is due: the new key is fresh.
	stdout, _, code = runMain(t, "rotate", "--if-older-than", "90d")
	if code != ExitOK || !strings.Contains(stdout, "not due") || e.read() != body {
		t.Errorf("--if-older-than on a fresh key: want 'not due', no change; exit %d:\n%s", code, stdout)
	}
}

func TestRotateProfileWithGraceThenUndo(t *testing.T) {
	e := newRotateEnv(t)
	before := e.read()
	if stdout, stderr, code := runMain(t, "rotate", "--profile", "shared"); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	id, _ := newKeyOf(t, e.read())
	if got := e.keys(); len(got) != 2 || got[e.key.KeyID] || !got[id] {
		t.Fatalf("want the old key inactive and %s active, got %v", id, got)
	}
	stdout, _, _ := runMain(t, "rotate", "status", "--format", "json")
	var open []map[string]any
	if err := json.Unmarshal([]byte(stdout), &open); err != nil || len(open) != 1 || open[0]["step"] != "deactivated" {
		t.Fatalf("status: want one deactivated rotation, got %v\n%s", err, stdout)
	}
	if stdout, stderr, code := runMain(t, "rotate", "undo"); code != ExitOK {
		t.Fatalf("undo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if e.read() != before {
		t.Errorf("undo must restore the file byte for byte:\n%s", e.read())
	}
	if got := e.keys(); !got[e.key.KeyID] || got[id] {
		t.Errorf("undo: want the old key active and the new inactive, got %v", got)
	}
}

func TestRotateDryRunChangesNothing(t *testing.T) {
	e := newRotateEnv(t)
	before := e.read()
	stdout, stderr, code := runMain(t, "rotate", "--dry-run")
	if code != ExitOK || !strings.Contains(stdout, "deliver it to credentials:default,shared") {
		t.Fatalf("want a plan naming both profiles; exit %d\n%s\n%s", code, stdout, stderr)
	}
	if e.read() != before || len(e.keys()) != 1 {
		t.Error("a dry run changed something")
	}
}

func TestRotateServiceUserToAnEnvFile(t *testing.T) {
	e := newRotateEnv(t)
	env := filepath.Join(t.TempDir(), "app.env")
	if err := os.WriteFile(env, []byte("AWS_ACCESS_KEY_ID="+e.key.KeyID+"\nAPP_MODE=prod\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Setenv("AWS_ACCESS_KEY_ID", "testing") // the caller: moto's admin
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	stdout, stderr, code := runMain(t, "rotate", "--user", "deploy", "--to", "envfile:"+env, "--grace", "0")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, _ := os.ReadFile(env)
	keys := e.keys()
	var newID string
	for id := range keys {
		newID = id
	}
	if len(keys) != 1 || newID == e.key.KeyID || !strings.Contains(string(data), "AWS_ACCESS_KEY_ID="+newID+"\n") ||
		!strings.Contains(string(data), "APP_MODE=prod\n") {
		t.Errorf("want the env file on the one new key %v, other lines kept:\n%s", keys, data)
	}
}

func TestRotateRefusesWhatItCannotRotate(t *testing.T) {
	e := newRotateEnv(t)
	e.write("[default]\ncredential_process = /usr/bin/false\n")
	tests := []struct {
		name, want string
		args       []string
	}{
		{"credential_process", "credential_process", []string{"rotate"}},
		{"a missing profile", "profile not found", []string{"rotate", "--profile", "nope"}},
		{"a user without targets", "--to", []string{"rotate", "--user", "deploy"}},
		{"a bad target", "nowhere:", []string{"rotate", "--user", "deploy", "--to", "nowhere:x"}},
		{"a bad grace", "--grace", []string{"rotate", "--grace", "soon"}},
		{"two modes", "exclude", []string{"rotate", "--all-profiles", "--user", "x", "--to", "exec:true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runMain(t, tt.args...)
			if code != ExitError || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 2 {
				t.Errorf("want exit 2 and a short error naming %q; got %d\nstdout:%s\nstderr:%s", tt.want, code, stdout, stderr)
			}
		})
	}
}

// TestRotateOwnKeyWithTheDocumentedPolicy rotates, against moto with IAM
// enforcement on, the key of a user holding only the actions of
// docs/policies/rotate-own-key.json. moto evaluates actions but matches
// every IAM call against Resource "*" (its access_control.py does not
// support resources yet), so the policy's ${aws:username} scope is widened
// to "*" here: the test proves the action list is complete, not the scope.
// Without iam:GetAccessKeyLastUsed the same run fails, which shows the
// test can.
func TestRotateOwnKeyWithTheDocumentedPolicy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(awstest.ModuleRoot(t), "docs/policies/rotate-own-key.json"))
	if err != nil {
		t.Fatal(err)
	}
	policy := strings.Replace(string(data), `"arn:aws:iam::*:user/${aws:username}"`, `"*"`, 1)
	tests := []struct {
		user, policy string
		want         int
	}{
		{"dev", policy, ExitOK},
		{"dev-short", strings.Replace(policy, `"iam:GetAccessKeyLastUsed"`, `"iam:GetUser"`, 1), ExitError},
	}
	srv := awstest.MotoWithAuth(t)
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			srv.SetEnv(t)
			t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
			user := srv.CreateUserKey(t, tt.user, tt.policy)
			creds := "[default]\naws_access_key_id = " + user.KeyID + "\naws_secret_access_key = " + user.Secret.Reveal() + "\n"
			if err := os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte(creds), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Unsetenv("AWS_ACCESS_KEY_ID")
			os.Unsetenv("AWS_SECRET_ACCESS_KEY")
			stdout, stderr, code := runMain(t, "rotate", "--grace", "0")
			if code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
}

func TestRotateProfileWithMFAAsksForOneCode(t *testing.T) {
	e := newRotateEnv(t)
	config := "[default]\nmfa_serial = arn:aws:iam::123456789012:mfa/deploy\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main([]string{"rotate", "--grace", "0"}, Deps{Stdin: strings.NewReader("123456\n"), Stdout: &stdout, Stderr: &stderr})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if strings.Count(stderr.String(), "MFA code for arn:aws:iam::123456789012:mfa/deploy") != 1 {
		t.Errorf("want exactly one MFA prompt naming the device:\n%s", stderr.String())
	}
	if id, _ := newKeyOf(t, e.read()); id == e.key.KeyID {
		t.Error("the key was not rotated")
	}
	// Unattended without a code: one clear error, nothing created.
	before := e.keys()
	_, stderrText, code := runMain(t, "rotate", "--grace", "0")
	if code != ExitError || !strings.Contains(stderrText, "--mfa-token") || len(e.keys()) != len(before) {
		t.Errorf("no code: want exit 2 naming --mfa-token and no new key; got %d\n%s", code, stderrText)
	}
}

func TestRotateWarnsAboutShadowingEnvironment(t *testing.T) {
	newRotateEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	_, stderr, code := runMain(t, "rotate", "--dry-run")
	if code != ExitOK || !strings.Contains(stderr, "warning: AWS_ACCESS_KEY_ID is set") {
		t.Errorf("want a warning about the environment's key, exit 0; got %d\n%s", code, stderr)
	}
}

func TestRotateConfigRunsEveryEntry(t *testing.T) {
	e := newRotateEnv(t)
	sink := filepath.Join(t.TempDir(), "svc.json")
	cfg := filepath.Join(t.TempDir(), "rotations.yaml")
	body := "grace: 0d\nrotations:\n  - profile: default\n  - user: svc\n    to: [\"exec:cat > " + sink + "\"]\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// svc has no key yet: the rotation gives it its first.
	if _, err := e.admin.ListKeys(context.Background(), "svc"); err == nil {
		t.Fatal("fixture: svc exists already")
	}
	e.srv.CreateUserKey(t, "svc")
	os.Setenv("AWS_ACCESS_KEY_ID", "testing") // the caller for the user entry
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	stdout, stderr, code := runMain(t, "rotate", "--config", cfg, "--profile", "default")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "rotated profile default") || !strings.Contains(stdout, "rotated user svc") {
		t.Errorf("want both entries rotated:\n%s", stdout)
	}
	if data, err := os.ReadFile(sink); err != nil || !strings.Contains(string(data), `"UserName":"svc"`) {
		t.Errorf("the exec target got no credentials: %v %s", err, data)
	}
}
