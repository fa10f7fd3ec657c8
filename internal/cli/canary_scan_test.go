package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
)

type scanFinding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	KeyID    string `json:"key_id"`
	Verified string `json:"verified"`
	Message  string `json:"message"`
}

func scanJSON(t *testing.T, args ...string) ([]scanFinding, int, string) {
	t.Helper()
	out, errOut, code := runMain(t, append([]string{"scan", "--format", "json", "--quiet"}, args...)...)
	var got []scanFinding
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", code, err, out, errOut)
	}
	return got, code, errOut
}

// TestScanReportsRegisteredCanariesAsSuch: a planted canary key found by
// scan is aws-canary-key at info, naming the canary and where it was
// planted, and does not fail the scan; another key beside it still does.
// Without a state database scan creates none.
func TestScanReportsRegisteredCanariesAsSuch(t *testing.T) {
	stateDB := filepath.Join(t.TempDir(), "state.db")
	t.Setenv("KEYWARDEN_STATE", stateDB)
	dir := t.TempDir()
	canaryKey := awstest.FakeKeyID("planted", 123456789012)
	write := func(name, id, seed string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(awstest.CredentialsFile(id, awstest.FakeSecret(seed))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("planted.credentials", canaryKey, "planted")

	if got, code, _ := scanJSON(t, dir); code != ExitFindings || len(got) != 1 || got[0].Rule != "aws-access-key-pair" {
		t.Fatalf("no state database: exit %d, %+v; want the key as a leak", code, got)
	}
	if _, err := os.Stat(stateDB); err == nil {
		t.Fatal("scan created a state database")
	}

	saveCanary(t, canary.Canary{Name: "ops-wiki", Account: "123456789012", User: "svc-backup", AccessKeyID: canaryKey,
		Placements: []canary.Placement{{Format: "credentials", Path: "wiki/aws.txt"}}})
	got, code, _ := scanJSON(t, dir)
	if code != ExitOK || len(got) != 1 || got[0].Rule != "aws-canary-key" || got[0].Severity != "info" || got[0].Verified != "canary" ||
		got[0].Message != "canary ops-wiki, planted credentials:wiki/aws.txt" {
		t.Fatalf("a registered canary: exit %d, %+v; want aws-canary-key, info, exit 0", code, got)
	}
	write("leak.credentials", awstest.FakeKeyID("leak", 123456789012), "leak")
	if got, code, _ := scanJSON(t, dir); code != ExitFindings || len(got) != 2 {
		t.Errorf("a canary and a leak: exit %d, %+v; want the leak to fail the scan", code, got)
	}
	out, _, _ := runMain(t, "scan", "--format", "sarif", "--quiet", dir)
	if !strings.Contains(out, `"ruleId": "aws-canary-key"`) || !strings.Contains(out, `"level": "note"`) {
		t.Errorf("sarif: want an aws-canary-key result at level note:\n%.3000s", out)
	}
	if out, _, _ := runMain(t, "scan", "--quiet", dir); !strings.Contains(out, "canary ops-wiki, planted credentials:wiki/aws.txt") {
		t.Errorf("text: want the canary and where it was planted on its line:\n%s", out)
	}
}

// TestVerifyNeverSendsKeysOfTheConfiguredCanaryAccounts: [canary] accounts
// in .keywarden.toml makes --verify report that account's keys canary
// without calling STS (the endpoint is closed: a call would be unknown).
func TestVerifyNeverSendsKeysOfTheConfiguredCanaryAccounts(t *testing.T) {
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	t.Setenv("AWS_ENDPOINT_URL", "http://"+awstest.ClosedAddr(t))
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.FakeKeyID("caller", 999988887777))
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.FakeSecret("caller"))
	t.Setenv("AWS_REGION", "us-east-1")
	dir := t.TempDir()
	ours := awstest.FakeKeyID("ours", 444455556666)
	if err := os.WriteFile(filepath.Join(dir, "k.credentials"), []byte(awstest.CredentialsFile(ours, awstest.FakeSecret("ours"))), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".keywarden.toml"), []byte("[canary]\naccounts = [\"444455556666\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _, errOut := scanJSON(t, "--verify", dir)
	if len(got) != 1 || got[0].Verified != "canary" || strings.Contains(errOut, "no answer") {
		t.Errorf("a key of a [canary] account: %+v, stderr %q; want canary, unsent", got, errOut)
	}
	if err := os.WriteFile(filepath.Join(dir, ".keywarden.toml"), []byte("[canary]\naccounts = [\"4444\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runMain(t, "scan", "--verify", "--quiet", dir); code != ExitError || !strings.Contains(errOut, `[canary] accounts: "4444": want a 12-digit AWS account id`) {
		t.Errorf("a bad account: exit %d, %q", code, errOut)
	}
}
