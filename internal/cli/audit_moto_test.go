package cli

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
)

// TestAuditAgainstMoto runs the real binary path (Main, the SDK, the account
// reader) against moto: an administrator's new key, judged 100 days from now,
// is too old, unused and held by an administrator.
func TestAuditAgainstMoto(t *testing.T) {
	moto := awstest.Moto(t)
	key := moto.CreateUserKey(t, "ci-admin", awstest.AdminPolicy)
	var stdout, stderr bytes.Buffer
	code := Main([]string{"audit", "--as-of", "+100d", "--format", "json"},
		Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	var findings []audit.Finding
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout.String())
	}
	var onKey []string
	for _, f := range findings {
		if f.KeyID == key.KeyID && f.Resource == key.ARN {
			onKey = append(onKey, f.Check)
		}
	}
	for _, want := range []string{"KW-KEY-AGE", "KW-KEY-UNUSED", "KW-KEY-ADMIN"} {
		if !slices.Contains(onKey, want) {
			t.Errorf("no %s finding on %s's key; findings on it: %v\nstdout:\n%s", want, key.User, onKey, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "credential report generated") {
		t.Errorf("stderr does not say how old the credential report is:\n%s", stderr.String())
	}
}
