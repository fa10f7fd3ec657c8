package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestDrillMistakesAreOneLine: a drill run without its two guards, or with
// an unknown scenario, is refused in one line before any AWS call.
func TestDrillMistakesAreOneLine(t *testing.T) {
	home := linesEnv(t)
	noCalls := filepath.Join(home, "calls.yaml")
	if err := os.WriteFile(noCalls, []byte("name: empty\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkLines(t, []badInput{
		{[]string{"drill", "run", "--yes"}, ExitError, `^keywarden: --account ID is required: the account id the drill runs in, as a check against the wrong credentials$`},
		{[]string{"drill", "run", "--account", "123456789012"}, ExitError, `^keywarden: drill run creates an IAM user and key in account 123456789012: give --yes to run it$`},
		{[]string{"drill", "run", "--account", "123456789012", "--yes", "--scenario", "seed-999"}, ExitError, `^keywarden: --scenario seed-999: no such built-in scenario \(want seed-001, stolen-laptop, ci-leak, exposed-git, or a \.yaml file\)$`},
		{[]string{"drill", "run", "--account", "123456789012", "--yes", "--scenario", noCalls}, ExitError, `^keywarden: --scenario .*calls\.yaml: no calls$`},
		{[]string{"drill", "history", "--format", "xml"}, ExitError, `^keywarden: --format "xml": want `},
	})
}

// TestDrillRunOnMoto runs drills through the command: the wrong account is
// refused before any change, and a drill whose source never delivers the
// drill's events fails at detect (exit 1), contained and cleaned up all the
// same, and is listed by history.
func TestDrillRunOnMoto(t *testing.T) {
	srv := awstest.MotoWithAuth(t)
	admin := srv.CreateUserKey(t, "operator", awstest.AdminPolicy)
	t.Setenv("AWS_ACCESS_KEY_ID", admin.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", admin.Secret.Reveal())
	dir := t.TempDir()
	t.Setenv("KEYWARDEN_STATE", filepath.Join(dir, "state.db"))
	t.Setenv("TMPDIR", dir)
	trail := filepath.Join(dir, "trail")
	os.Mkdir(trail, 0o700)

	_, stderr, code := runMain(t, "drill", "run", "--account", "000000000000", "--yes", "--source", trail)
	if code != ExitError || !strings.Contains(stderr, "keywarden: --account 000000000000 is not the account of these credentials (123456789012): refused, nothing changed") {
		t.Fatalf("wrong account: exit %d\n%s", code, stderr)
	}
	out, stderr, code := runMain(t, "drill", "run", "--account", "123456789012", "--yes", "--source", trail, "--wait", "0s")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{": fail", "**detect**: fail", "did not fire within 0s: KW-CT-SES-RECON, KW-CT-STS-SESSION-FROM-KEY",
		"**contain**: pass", "**cleanup**: pass", "sts:GetCallerIdentity by AKIA"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	t.Logf("report:\n%s", out)
	hist, _, code := runMain(t, "drill", "history")
	if code != ExitOK || !strings.Contains(hist, "seed-001") || !strings.Contains(hist, " fail ") {
		t.Errorf("history: exit %d\n%s", code, hist)
	}
	t.Logf("history:\n%s", hist)

	out, stderr, code = runMain(t, "drill", "run", "--account", "123456789012", "--yes", "--source", filepath.Join(dir, "missing"), "--wait", "0s")
	if code != ExitIncomplete || !strings.Contains(out, "**detect**: skipped") || !strings.Contains(out, ": incomplete") {
		t.Errorf("unreadable source: exit %d, want 3\n%s\n%s", code, out, stderr)
	}
}
