package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// runMain runs keywarden with args; no one answers its questions.
func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Prompter: &answers{}})
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

func TestMFACodeIsTheFlagElseOneQuestion(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/deploy"
	asked := &answers{list: []string{"123456"}}
	deps := Deps{Prompter: asked}
	if code, err := mfaCode(deps, "654321", serial); err != nil || code != "654321" || len(asked.asked) != 0 {
		t.Errorf("--mfa-token: %q, %v, asked %q", code, err, asked.asked)
	}
	if code, err := mfaCode(deps, "", serial); err != nil || code != "123456" {
		t.Errorf("asked: %q, %v", code, err)
	}
	if diff := cmp.Diff([]string{"MFA code for " + serial + ": (hidden=true)"}, asked.asked); diff != "" {
		t.Errorf("questions (-want +got):\n%s", diff)
	}
	// Unattended: no one to ask.
	_, err := mfaCode(deps, "", serial)
	if err == nil || err.Error() != "no MFA code for "+serial+" (give --mfa-token for unattended runs): no terminal to ask on" {
		t.Errorf("no terminal: %v", err)
	}
	asked.list = []string{""}
	if _, err := mfaCode(deps, "", serial); err == nil || !strings.Contains(err.Error(), "empty answer") {
		t.Errorf("an empty answer: %v", err)
	}
}

// TestRotateProfileIsTheCallerOfUserRotations: with --user, and with --config
// for the file's user entries, one --profile names the credentials that sign
// (it is not a profile to rotate); more is refused.
func TestRotateProfileIsTheCallerOfUserRotations(t *testing.T) {
	for _, o := range []rotateOptions{
		{user: "ci", to: []string{"exec:true"}, profiles: []string{"ops"}},
		{config: "rotations.yaml", profiles: []string{"ops"}},
	} {
		if err := o.resolve(); err != nil || o.callerProfile != "ops" || o.profiles != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	for _, o := range []rotateOptions{
		{user: "ci", to: []string{"exec:true"}, profiles: []string{"ops", "dev"}},
		{config: "rotations.yaml", profiles: []string{"ops", "dev"}},
	} {
		if err := o.resolve(); err == nil || !strings.Contains(err.Error(), "at most one --profile") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}
