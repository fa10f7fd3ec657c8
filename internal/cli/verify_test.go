package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestScanVerifyAgainstMoto proves --verify end to end: a key that exists in
// the (auth-enforcing) emulator is reported active with its owner's ARN, and a
// well-formed key it never issued is reported invalid.
func TestScanVerifyAgainstMoto(t *testing.T) {
	moto := awstest.MotoWithAuth(t)
	live := moto.CreateUserKey(t, "ci-deployer")
	dir := t.TempDir()
	write := func(name, id, sec string) {
		body := awstest.CredentialsFile(id, sec)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("live.credentials", live.KeyID, live.Secret.Reveal())
	write("dead.credentials", awstest.FakeKeyID("dead", 123456789012), awstest.FakeSecret("dead"))

	var stdout, stderr bytes.Buffer
	code := Main([]string{"scan", "--verify", "--format", "json", "--quiet", dir}, Deps{Stdout: &stdout, Stderr: &stderr})
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, stderr.String())
	}
	var got []struct {
		KeyID    string `json:"key_id"`
		Verified string `json:"verified"`
		ARN      string `json:"arn"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout.String())
	}
	states := map[string][2]string{}
	for _, f := range got {
		states[f.KeyID] = [2]string{f.Verified, f.ARN}
	}
	if s := states[live.KeyID]; s[0] != "active" || s[1] != live.ARN {
		t.Errorf("live key: verified=%q arn=%q; want active %q", s[0], s[1], live.ARN)
	}
	if s := states[awstest.FakeKeyID("dead", 123456789012)]; s[0] != "invalid" {
		t.Errorf("unknown key: verified=%q; want invalid", s[0])
	}
	if bytes.Contains(stdout.Bytes(), []byte(live.Secret.Reveal())) || bytes.Contains(stderr.Bytes(), []byte(live.Secret.Reveal())) {
		t.Error("the live secret was printed in clear")
	}
}
