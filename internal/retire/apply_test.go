package retire

import (
	"strings"
	"testing"
)

func TestPinsRepository(t *testing.T) {
	for sub, want := range map[string]string{
		"repo:acme/shop:ref:refs/heads/main":     "",
		"repo:acme/shop:environment:prod":        "",
		"repo:acme/shop:*":                       "",
		"project_path:acme/shop:ref_type:branch": "",
		"*":                                      "bare wildcard",
		"**":                                     "bare wildcard",
		"repo:acme/*":                            "does not pin one repository",
		"repo:*/shop:ref:refs/heads/main":        "does not pin one repository",
		"repo:acme:ref:refs/heads/main":          "does not pin one repository",
		"project_path:acme/sh?p:ref_type:branch": "does not pin one repository",
		"ref:refs/heads/main":                    "names no repository",
	} {
		err := pinsRepository(sub)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("pinsRepository(%q) = %v, want %q", sub, err, want)
		}
	}
}

// The change is the plan's instructions, with the ARN IAM gave the role in
// place of the one plan foresaw.
func TestChangeIsThePlansWithTheRealARN(t *testing.T) {
	r := Retirement{Account: "123456789012", RoleARN: "arn:aws-cn:iam::123456789012:role/ci/r",
		Replacement: Replacement{Kind: ReplaceGitHubOIDC, Role: "r", Instructions: "role-to-assume: arn:aws:iam::123456789012:role/r\n"}}
	if got, want := Change(r), "role-to-assume: arn:aws-cn:iam::123456789012:role/ci/r\n"; got != want {
		t.Errorf("Change = %q, want %q", got, want)
	}
	r.Replacement.Instructions = ""
	if got := Change(r); !strings.Contains(got, "the role arn:aws-cn:iam::123456789012:role/ci/r in place of the key") {
		t.Errorf("Change without instructions = %q", got)
	}
}
