package auditaws_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestDocumentedAuditPolicyIsEnough runs the audit, against moto with IAM
// enforcement on, as a user holding exactly docs/policies/audit.json: no
// read may be denied. The same user without iam:ListAccessKeys is warned
// about, which shows the check can fail.
func TestDocumentedAuditPolicyIsEnough(t *testing.T) {
	policy := readDoc(t, "docs/policies/audit.json")
	s := awstest.MotoWithAuth(t)
	s.CreateUserKey(t, "holder")
	tests := []struct {
		name, user, policy string
		wantDenied         bool
	}{
		{"the documented policy", "auditor", policy, false},
		{"without iam:ListAccessKeys", "auditor-short", strings.Replace(policy, `"iam:ListAccessKeys",`, "", 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auditor := s.CreateUserKey(t, tt.user, tt.policy)
			t.Setenv("AWS_ACCESS_KEY_ID", auditor.KeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", auditor.Secret.Reveal())
			inv, _ := readAccount(t)
			t.Logf("warnings: %q", inv.Warnings)
			var hits []string
			for _, w := range inv.Warnings {
				// moto with auth on miscomputes the signature of Lambda's
				// REST paths (any caller, any policy): not a permission.
				if !strings.Contains(w, "SignatureDoesNotMatch") {
					hits = append(hits, w)
				}
			}
			denied := regexp.MustCompile(`(?i)denied|not authorized`)
			switch {
			case !tt.wantDenied && len(hits) > 0:
				t.Errorf("the documented policy left reads unread: %q", hits)
			case tt.wantDenied && !denied.MatchString(strings.Join(hits, "\n")):
				t.Errorf("want a denied read, got warnings %q", inv.Warnings)
			}
		})
	}
}

// TestIAMDocShowsThePolicyFiles keeps docs/iam.md's copies of the policies
// identical to the files.
func TestIAMDocShowsThePolicyFiles(t *testing.T) {
	doc := readDoc(t, "docs/iam.md")
	for _, name := range []string{"audit.json", "audit-org.json", "rotate-own-key.json", "rotate-service-users.json", "respond.json"} {
		body := readDoc(t, "docs/policies/"+name)
		if !json.Valid([]byte(body)) {
			t.Errorf("docs/policies/%s is not valid JSON", name)
		}
		if !strings.Contains(doc, "```json\n"+body+"```") {
			t.Errorf("docs/iam.md does not show docs/policies/%s as it is", name)
		}
	}
}

func readDoc(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(awstest.ModuleRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
