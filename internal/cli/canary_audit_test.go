package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/report"
)

// TestAuditLeavesCanaryUsersOut: on moto, a canary user's old unused key
// is no finding (an ordinary user's beside it is), a note and a
// KW-AUDIT-CANARIES row say how many were recognised, and the same user
// name registered in another account is judged.
func TestAuditLeavesCanaryUsersOut(t *testing.T) {
	moto := awstest.Moto(t)
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	plantCanary(t, moto, "svc-reports")
	plain := moto.CreateUserKey(t, "deploy")
	other := moto.CreateUserKey(t, "svc-ledger")
	saveCanary(t, canary.Canary{Name: "elsewhere", Account: "210987654321", User: "svc-ledger", AccessKeyID: awstest.FakeKeyID("elsewhere", 210987654321)})

	stdout, stderr, code := auditMain(t, "--as-of", "+100d", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	users := map[string]bool{}
	var row map[string]any
	for _, f := range decodeFindings(t, stdout) {
		if f.Check == report.AuditCanariesCheck {
			row = f.Evidence
			continue
		}
		for _, u := range []string{"svc-reports", plain.User, other.User} {
			if strings.HasSuffix(f.Resource, ":user/"+u) {
				users[u] = true
			}
		}
	}
	if users["svc-reports"] || !users[plain.User] || !users[other.User] {
		t.Errorf("users with findings %v; want deploy and svc-ledger (a canary of another account), not the canary svc-reports", users)
	}
	if row == nil || row["canaries"] != float64(1) {
		t.Errorf("canaries row: %v", row)
	}
	if !strings.Contains(stderr, "1 user recognised as a canary (keywarden canary) and not judged: svc-reports") {
		t.Errorf("stderr does not name the canary:\n%s", stderr)
	}
}
