package retire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type trustDoc struct {
	Statement []struct {
		Principal map[string]string
		Action    string
		Condition map[string]map[string]string
	}
}

func trustOf(t *testing.T, r Replacement) trustDoc {
	t.Helper()
	var d trustDoc
	if err := json.Unmarshal(r.Trust, &d); err != nil || len(d.Statement) != 1 {
		t.Fatalf("trust %s: %v", r.Trust, err)
	}
	return d
}

// The OIDC trusts pin one repository and one branch or environment, with
// the audience: never a wildcard.
func TestOIDCTrustPinsTheRepository(t *testing.T) {
	for _, c := range []struct {
		kind, ref, key, sub string
	}{
		{ReplaceGitHubOIDC, "refs/heads/release", "token.actions.githubusercontent.com:sub", "repo:acme/deploy:ref:refs/heads/release"},
		{ReplaceGitHubOIDC, "environment:prod", "token.actions.githubusercontent.com:sub", "repo:acme/deploy:environment:prod"},
		{ReplaceGitLabOIDC, "", "gitlab.com:sub", "project_path:acme/deploy:ref_type:branch:ref:main"},
	} {
		r, _, err := replacement(c.kind, "ci", Target{Account: "111122223333", Repo: "acme/deploy", Ref: c.ref}, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := trustOf(t, r).Statement[0]
		eq := st.Condition["StringEquals"]
		if st.Action != "sts:AssumeRoleWithWebIdentity" || eq[c.key] != c.sub || strings.Contains(string(r.Trust), "*") {
			t.Errorf("%s %s: trust %s, want %s = %s and no wildcard", c.kind, c.ref, r.Trust, c.key, c.sub)
		}
		if aud := eq[strings.TrimSuffix(c.key, "sub")+"aud"]; aud == "" {
			t.Errorf("%s: no audience condition in %s", c.kind, r.Trust)
		}
		if !strings.Contains(r.Instructions, "arn:aws:iam::111122223333:role/"+r.Role) {
			t.Errorf("instructions do not name the role: %s", r.Instructions)
		}
	}
	gh, _, _ := replacement(ReplaceGitHubOIDC, "ci", Target{Account: "111122223333", Repo: "acme/deploy"}, nil)
	if !strings.Contains(gh.Instructions, "id-token: write") || !strings.Contains(gh.Instructions, "role-to-assume:") || !strings.Contains(gh.Instructions, "aws-actions/configure-aws-credentials") {
		t.Errorf("GitHub instructions: %s", gh.Instructions)
	}
}

// A third party gets a random external id, different every plan, and the
// vendor's account stays a placeholder apply refuses.
func TestThirdPartyGetsARandomExternalID(t *testing.T) {
	a, notes, err := replacement(ReplaceExternalIDRole, "vendor", Target{Account: "111122223333"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := replacement(ReplaceExternalIDRole, "vendor", Target{Account: "111122223333"}, nil)
	if len(a.ExternalID) != 32 || a.ExternalID == b.ExternalID {
		t.Errorf("external ids %q %q: want 32 random hex digits each", a.ExternalID, b.ExternalID)
	}
	st := trustOf(t, a).Statement[0]
	if st.Condition["StringEquals"]["sts:ExternalId"] != a.ExternalID || st.Principal["AWS"] != "arn:aws:iam::"+Placeholder+":root" || len(notes) == 0 {
		t.Errorf("trust %s notes %v", a.Trust, notes)
	}
	fixed, _, _ := replacement(ReplaceExternalIDRole, "vendor", Target{}, bytes.NewReader(make([]byte, 16)))
	if fixed.ExternalID != strings.Repeat("0", 32) {
		t.Errorf("external id from the given reader: %q", fixed.ExternalID)
	}
}

func TestServiceRolesTrustTheirService(t *testing.T) {
	for kind, svc := range map[string]string{ReplaceInstanceProfile: "ec2.amazonaws.com", ReplaceTaskRole: "ecs-tasks.amazonaws.com",
		ReplaceFunctionRole: "lambda.amazonaws.com", ReplaceServiceRole: "codebuild.amazonaws.com"} {
		r, _, err := replacement(kind, "app", Target{Account: "111122223333"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := trustOf(t, r).Statement[0].Principal["Service"]; got != svc {
			t.Errorf("%s trusts %q, want %s", kind, got, svc)
		}
	}
	r, _, _ := replacement(ReplaceInstanceProfile, "app", Target{}, nil)
	if !strings.Contains(r.Instructions, "aws ec2 associate-iam-instance-profile") {
		t.Errorf("instance profile instructions: %s", r.Instructions)
	}
	if r, _, _ := replacement(ReplaceTaskRole, "app", Target{Account: "1"}, nil); !strings.Contains(r.Instructions, `"taskRoleArn": "arn:aws:iam::1:role/keywarden-app-task-role"`) {
		t.Errorf("task role instructions: %s", r.Instructions)
	}
}
