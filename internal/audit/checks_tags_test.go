package audit

import (
	"strings"
	"testing"
)

func TestCheckUserTags(t *testing.T) {
	tagged := func(tags map[string]string) Inventory {
		return account(User{Name: "alice", ARN: "arn:aws:iam::" + testAccount + ":user/alice", DetailsRead: true, Tags: tags})
	}
	required := DefaultConfig(asOf)
	required.RequiredTags = []string{"owner", "cost-center"}
	unread := account(User{Name: "alice", ARN: "arn:aws:iam::" + testAccount + ":user/alice", Tags: map[string]string{}})
	runCases(t, checkUserTags, []checkCase{
		{"a tag of the account's own passes", tagged(map[string]string{"team": "payments"}), nil, nil},
		{"no tag fails", tagged(map[string]string{}), nil, []string{"KW-USER-UNTAGGED low alice"}},
		{"aws: tags alone fail", tagged(map[string]string{"aws:cloudformation:stack-name": "base"}), nil,
			[]string{"KW-USER-UNTAGGED low alice"}},
		{"an empty value is still a tag", tagged(map[string]string{"team": ""}), nil, nil},
		{"every required key passes", tagged(map[string]string{"owner": "a", "cost-center": "7", "x": "y"}), &required, nil},
		{"a required key missing fails", tagged(map[string]string{"owner": "a"}), &required, []string{"KW-USER-UNTAGGED low alice"}},
		{"required keys are case-sensitive, as in IAM", tagged(map[string]string{"Owner": "a", "cost-center": "7"}), &required,
			[]string{"KW-USER-UNTAGGED low alice"}},
		{"user not in the authorization details is unknown", unread, nil, []string{"KW-USER-UNTAGGED low alice unknown"}},
	})
	fs := checkUserTags(tagged(map[string]string{"owner": "a"}), required)
	if len(fs) != 1 || !strings.Contains(fs[0].Title, "lacks a required tag") ||
		strings.Join(fs[0].Evidence["missing_tags"].([]string), ",") != "cost-center" ||
		!strings.Contains(fs[0].Remediation, "aws iam tag-user --user-name alice") {
		t.Errorf("finding %+v: want the missing key and a tag-user command", fs)
	}
}

func TestCheckRoleTags(t *testing.T) {
	roles := func(rs ...Role) Inventory {
		inv := account()
		inv.Roles = rs
		return inv
	}
	role := func(name string, tags map[string]string) Role {
		return Role{Name: name, ARN: "arn:aws:iam::" + testAccount + ":role/" + name, TrustKnown: true, Tags: tags}
	}
	notRead := account()
	notRead.RolesRead = false
	runCases(t, checkRoleTags, []checkCase{
		{"tagged role passes", roles(role("deploy", map[string]string{"owner": "ci"})), nil, nil},
		{"untagged role fails", roles(role("deploy", nil)), nil, []string{"KW-ROLE-UNTAGGED low deploy"}},
		{"aws: tag only fails", roles(role("deploy", map[string]string{"aws:createdBy": "x"})), nil,
			[]string{"KW-ROLE-UNTAGGED low deploy"}},
		{"service-linked role is AWS's", roles(Role{Name: "AWSServiceRoleForSupport",
			ARN: "arn:aws:iam::" + testAccount + ":role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"}), nil, nil},
		{"roles not read is unknown", notRead, nil, []string{"KW-ROLE-UNTAGGED low root unknown"}},
	})
}

func TestCheckAnalyzerTags(t *testing.T) {
	with := func(tags map[string]string) Inventory {
		inv := account()
		inv.Analyzers[0].Analyzers[0].Tags = tags
		return inv
	}
	unread := account()
	unread.AnalyzerRegionsUnread = []string{"eu-west-1"}
	runCases(t, checkAnalyzerTags, []checkCase{
		{"tagged analyzer passes", with(map[string]string{"owner": "sec"}), nil, nil},
		{"untagged analyzer fails", with(nil), nil, []string{"KW-ANALYZER-UNTAGGED low account"}},
		{"aws: tag only fails", with(map[string]string{"aws:x": "y"}), nil, []string{"KW-ANALYZER-UNTAGGED low account"}},
		{"a region not read is unknown", unread, nil, []string{"KW-ANALYZER-UNTAGGED low root unknown"}},
	})
}

func TestCheckTrailTags(t *testing.T) {
	with := func(mod func(*Trail)) Inventory {
		inv := account()
		inv.Trails = []Trail{trailWith(mod)}
		return inv
	}
	notRead := account()
	notRead.TrailsRead = false
	runCases(t, checkTrailTags, []checkCase{
		{"tagged trail passes", with(func(*Trail) {}), nil, nil},
		{"untagged trail fails", with(func(t *Trail) { t.Tags = map[string]string{} }), nil, []string{"KW-CT-UNTAGGED low main"}},
		{"aws: tag only fails", with(func(t *Trail) { t.Tags = map[string]string{"aws:cloudformation:stack-id": "s"} }), nil,
			[]string{"KW-CT-UNTAGGED low main"}},
		{"tags not read are unknown", with(func(t *Trail) { t.TagsRead, t.Tags = false, nil }), nil,
			[]string{"KW-CT-UNTAGGED low main unknown"}},
		{"trails not read is unknown", notRead, nil, []string{"KW-CT-UNTAGGED low root unknown"}},
	})
}
