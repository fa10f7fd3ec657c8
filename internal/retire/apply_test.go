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

// Each kind's change names the real ARN where its consumer takes it.
func TestChangeNamesTheRole(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/r"
	for kind, want := range map[string]string{
		ReplaceGitHubOIDC:      "role-to-assume: " + arn,
		ReplaceGitLabOIDC:      "AWS_ROLE_ARN: " + arn,
		ReplaceInstanceProfile: "--iam-instance-profile Name=r",
		ReplaceTaskRole:        `"taskRoleArn": "` + arn + `"`,
		ReplaceFunctionRole:    "--role " + arn,
		ReplaceServiceRole:     "--service-role " + arn,
		ReplaceExecRole:        "role_arn = " + arn,
		ReplaceExternalIDRole:  "role ARN:    " + arn,
		ReplaceDelete:          "Nothing to change",
	} {
		got := Change(Retirement{RoleARN: arn, Replacement: Replacement{Kind: kind, Role: "r", Instructions: "see " + RoleARNMark}})
		if !strings.Contains(got, want) || !strings.Contains(got, "see "+arn) {
			t.Errorf("%s: the change does not say %q (or fill the plan's mark):\n%s", kind, want, got)
		}
	}
}
