package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// respond against moto enforcing IAM, as a responder short of a right: the
// exit status, the one line, and a report (-o, written whole) that says per
// step what was checked, made and failed, and claims nothing it did not do.

// responderActions are the responder's rights that moto can enforce:
// moto checks IAM actions against the resource "*" alone, so
// docs/policies/respond.json's per-user statements would allow nothing.
var responderActions = []string{"iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:GetUser", "iam:ListUserPolicies",
	"iam:GetUserPolicy", "iam:ListAttachedUserPolicies", "iam:ListGroupsForUser", "iam:ListGroupPolicies", "iam:GetGroupPolicy",
	"iam:ListAttachedGroupPolicies", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetLoginProfile",
	"iam:UpdateAccessKey", "iam:PutUserPolicy", "iam:DeleteUserPolicy"}

// responderWithout signs the rest of the test as a responder holding
// responderActions less those named (moto enforcing IAM), and returns the
// exposed key's id (user deploy's).
func responderWithout(t *testing.T, without ...string) string {
	t.Helper()
	var allowed []string
	for _, a := range responderActions {
		if !slices.Contains(without, a) {
			allowed = append(allowed, `"`+a+`"`)
		}
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(allowed, ",") + `],"Resource":"*"}]}`
	moto := awstest.MotoWithAuth(t)
	exposed := moto.CreateUserKey(t, "deploy")
	responder := moto.CreateUserKey(t, "responder", policy)
	t.Setenv("AWS_ACCESS_KEY_ID", responder.KeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", responder.Secret.Reveal())
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	return exposed.KeyID
}

// respondRun runs respond ARGS -o FILE and returns the report, stderr's
// keywarden: lines and the exit status.
func respondRun(t *testing.T, args ...string) (string, []string, int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.md")
	stdout, stderr, code := runMain(t, append(append([]string{"respond"}, args...), "-o", out)...)
	if stdout != "" {
		t.Errorf("stdout %q with -o", stdout)
	}
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "keywarden: ") {
			lines = append(lines, l)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no report at -o (exit %d): %v\n%s", code, err, stderr)
	}
	return string(data), lines, code
}

func TestRespondThatCannotIdentifyTheKeyClaimsNothing(t *testing.T) {
	key := responderWithout(t, "iam:GetAccessKeyLastUsed")
	rep, lines, code := respondRun(t, key, "--no-lookup", "--apply")
	if code != ExitError || len(lines) != 1 || !strings.HasPrefix(lines[0], "keywarden: identify "+key+": iam:GetAccessKeyLastUsed: access denied") {
		t.Errorf("exit %d, lines %q", code, lines)
	}
	for _, want := range []string{"| identify | failed | identify " + key + ": iam:GetAccessKeyLastUsed: access denied",
		"| contain | skipped | not planned: the key's owner is unknown |", "Not planned: the key's owner is unknown."} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "Nothing to contain") || strings.Contains(rep, "## Review") {
		t.Errorf("the report claims what it did not check:\n%s", rep)
	}
}

func TestRespondStoppedByADeniedChangeSaysWhatWasMade(t *testing.T) {
	key := responderWithout(t, "iam:PutUserPolicy")
	rep, lines, code := respondRun(t, key, "--no-lookup", "--apply")
	if code != ExitError || len(lines) != 1 || !strings.HasPrefix(lines[0], "keywarden: contain revoke-sessions (incident inc-") ||
		!strings.Contains(lines[0], "iam:PutUserPolicy on user deploy: access denied") {
		t.Errorf("exit %d, lines %q", code, lines)
	}
	for _, want := range []string{"## Containment (stopped by a failure: 'keywarden respond undo inc-", "| deactivate-key | done ",
		"| revoke-sessions | failed (it may have been made: undo reverses it): iam:PutUserPolicy on user deploy: access denied",
		"| contain | failed | revoke-sessions failed: ", "made: deactivate-key; not tried: none;", "`failed` revoke-sessions of deploy failed"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "nothing changed") {
		t.Errorf("a partly made containment reported as nothing changed:\n%s", rep)
	}
}
