package audit

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

const (
	allowAll      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	allowCreate   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:GetUser"],"Resource":"*"}]}`
	allowS3Read   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`
	customerARN   = "arn:aws:iam::123456789012:policy/hire"
	awsManagedARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

func TestJudgeUserPolicies(t *testing.T) {
	catalog := iampolicy.Catalog{
		Groups: map[string]iampolicy.GroupPolicies{
			"admins":  {Inline: []iampolicy.InlinePolicy{{Name: "all", Document: allowAll}}},
			"readers": {Attached: []string{awsManagedARN}},
		},
		Managed: map[string]string{customerARN: allowCreate},
	}
	inline := func(doc string) []iampolicy.InlinePolicy { return []iampolicy.InlinePolicy{{Name: "p", Document: doc}} }
	tests := []struct {
		name         string
		set          iampolicy.PolicySet
		wantAdmin    Tri
		wantGroups   []string
		wantDanger   bool // some dangerous right is listed
		wantWarnings []string
	}{
		{"scoped rights are not admin", iampolicy.PolicySet{Inline: inline(allowS3Read)}, No, nil, false, nil},
		{"admin through a group", iampolicy.PolicySet{Groups: []string{"admins"}}, Yes, []string{"admins"}, true, nil},
		{"AdministratorAccess is known without its document",
			iampolicy.PolicySet{Attached: []string{iampolicy.AdministratorAccess}}, Yes, nil, true, nil},
		{"dangerous rights from a customer managed policy",
			iampolicy.PolicySet{Attached: []string{customerARN}}, No, nil, true, nil},
		{"a policy missing from the catalogue makes admin unknown",
			iampolicy.PolicySet{Groups: []string{"readers"}}, Unknown, []string{"readers"}, false,
			[]string{"user u: policies [" + awsManagedARN + "] could not be read: admin unknown"}},
		{"what was read already makes the user admin",
			iampolicy.PolicySet{Inline: inline(allowAll), Attached: []string{awsManagedARN}}, Yes, nil, true, nil},
		{"an unreadable document makes admin unknown", iampolicy.PolicySet{Inline: inline(`{not json`)}, Unknown, nil, false,
			[]string{"user u: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := User{Name: "u"}
			warnings := JudgeUserPolicies(&u, tt.set, catalog)
			if u.Admin != tt.wantAdmin {
				t.Errorf("admin = %v, want %v", u.Admin, tt.wantAdmin)
			}
			if diff := cmp.Diff(tt.wantGroups, u.Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			if (len(u.Dangerous) > 0) != tt.wantDanger {
				t.Errorf("dangerous = %v, want some: %v", u.Dangerous, tt.wantDanger)
			}
			if len(warnings) != len(tt.wantWarnings) {
				t.Fatalf("warnings = %q, want %q", warnings, tt.wantWarnings)
			}
			for i, w := range tt.wantWarnings {
				if !strings.HasPrefix(warnings[i], w) {
					t.Errorf("warning %q, want one starting %q", warnings[i], w)
				}
			}
		})
	}
}

func TestJudgeUserPoliciesNamesTheDangerousRights(t *testing.T) {
	u := User{Name: "hirer"}
	JudgeUserPolicies(&u, iampolicy.PolicySet{Inline: []iampolicy.InlinePolicy{{Name: "p", Document: allowCreate}}}, iampolicy.Catalog{})
	if diff := cmp.Diff([]string{"iam:CreateUser"}, u.Dangerous); diff != "" {
		t.Errorf("dangerous (-want +got):\n%s", diff)
	}
}

func TestUncataloguedPolicies(t *testing.T) {
	const (
		boundaryARN = "arn:aws:iam::aws:policy/PowerUserAccess"
		groupARN    = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
	)
	c := iampolicy.Catalog{
		Groups:  map[string]iampolicy.GroupPolicies{"ops": {Attached: []string{groupARN, customerARN}}},
		Managed: map[string]string{customerARN: allowCreate},
	}
	users := []iampolicy.PolicySet{
		{Attached: []string{awsManagedARN, customerARN, iampolicy.AdministratorAccess}},
		{Attached: []string{awsManagedARN}, Boundary: boundaryARN},
		{},
	}
	want := []string{groupARN, boundaryARN, awsManagedARN} // sorted
	if diff := cmp.Diff(want, UncataloguedPolicies(c, users)); diff != "" {
		t.Errorf("to fetch (-want +got):\n%s", diff)
	}
	if got := UncataloguedPolicies(iampolicy.Catalog{}, nil); got != nil {
		t.Errorf("nothing attached: got %q", got)
	}
}

func TestJudgeRoleTrust(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/r"
	trust := func(principal, condition string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal +
			`"},"Action":"sts:AssumeRole"` + condition + `}]}`
	}
	tests := []struct {
		name, trust string
		want        Role
		wantErr     bool
	}{
		{"another account without an ExternalId", trust("arn:aws:iam::444455556666:root", ""),
			Role{Name: "r", ARN: arn, TrustKnown: true, ForeignNoExternalID: []string{"arn:aws:iam::444455556666:root"}}, false},
		{"as IAM returns it, URL-encoded", url.QueryEscape(trust("444455556666", "")),
			Role{Name: "r", ARN: arn, TrustKnown: true, ForeignNoExternalID: []string{"444455556666"}}, false},
		{"another account with an ExternalId", trust("444455556666", `,"Condition":{"StringEquals":{"sts:ExternalId":"v-1"}}`),
			Role{Name: "r", ARN: arn, TrustKnown: true}, false},
		{"its own account", trust("arn:aws:iam::123456789012:root", ""), Role{Name: "r", ARN: arn, TrustKnown: true}, false},
		{"an unreadable trust policy is unknown", "{not json", Role{Name: "r", ARN: arn}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JudgeRoleTrust("r", arn, tt.trust)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("role (-want +got):\n%s", diff)
			}
		})
	}
}
