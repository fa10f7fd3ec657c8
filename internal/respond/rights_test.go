package respond

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

const (
	allowAll      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	createUserDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}]}`
	getUserOnly   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`
	deployRole    = "arn:aws:iam::123456789012:role/deploy"
	assumeDeploy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + deployRole + `"}]}`
	boundaryARN   = "arn:aws:iam::123456789012:policy/Boundary"
	hiddenARN     = "arn:aws:iam::123456789012:policy/Hidden"
	unlistedARN   = "arn:aws:iam::123456789012:policy/Unlisted"
)

// allCapabilities is what "*" on "*" grants.
var allCapabilities = iampolicy.CapabilityNames()

func inline(docs ...string) []iampolicy.InlinePolicy {
	var out []iampolicy.InlinePolicy
	for i, d := range docs {
		out = append(out, iampolicy.InlinePolicy{Name: string(rune('a' + i)), Document: d})
	}
	return out
}

func catalog(groups map[string]iampolicy.GroupPolicies, managed map[string]string) iampolicy.Catalog {
	return iampolicy.Catalog{Groups: groups, Managed: managed}
}

// TestAssess resolves policies as the adapter hands them over, without AWS.
func TestAssess(t *testing.T) {
	denied := errors.New("iam:GetPolicy: access denied")
	tests := []struct {
		name string
		in   UserPolicies
		want Rights
	}{
		{"admin through a group", UserPolicies{Set: iampolicy.PolicySet{Groups: []string{"admins"}},
			Catalog: catalog(map[string]iampolicy.GroupPolicies{"admins": {Inline: inline(allowAll)}}, nil)},
			Rights{Admin: true, Groups: []string{"admins"}, Dangerous: allCapabilities, AssumableRoles: []string{"*"}}},
		{"a boundary removes admin", UserPolicies{Set: iampolicy.PolicySet{Inline: inline(allowAll), Boundary: boundaryARN},
			Catalog: catalog(nil, map[string]string{boundaryARN: getUserOnly})},
			Rights{Boundary: boundaryARN}},
		{"a role it may assume and a dangerous managed policy", UserPolicies{
			Set:     iampolicy.PolicySet{Inline: inline(assumeDeploy), Attached: []string{unlistedARN}},
			Catalog: catalog(nil, map[string]string{unlistedARN: createUserDoc})},
			Rights{Dangerous: []string{"iam:CreateUser"}, AssumableRoles: []string{deployRole}}},
		{"what was not read is named once, with why, sorted", UserPolicies{
			Set:     iampolicy.PolicySet{Inline: inline(createUserDoc), Attached: []string{hiddenARN}, Groups: []string{"ops", "admins"}},
			Catalog: catalog(map[string]iampolicy.GroupPolicies{"ops": {Inline: inline(getUserOnly)}}, nil),
			Unread:  []Unread{{Source: "group:admins", Err: errors.New("iam:ListGroupPolicies: throttled")}, {Source: hiddenARN, Err: denied}}},
			Rights{Dangerous: []string{"iam:CreateUser"}, Groups: []string{"ops", "admins"},
				Unknown: []string{hiddenARN + " (iam:GetPolicy: access denied)", "group:admins (iam:ListGroupPolicies: throttled)"}}},
		{"a policy neither read nor refused is still unknown", UserPolicies{Set: iampolicy.PolicySet{Attached: []string{unlistedARN}}},
			Rights{Unknown: []string{unlistedARN}}},
		{"an unparsable document is unknown, the rest resolved", UserPolicies{Set: iampolicy.PolicySet{Inline: inline("{", createUserDoc)}},
			Rights{Dangerous: []string{"iam:CreateUser"}, Unknown: []string{unknownOf(t, "{")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Assess(tt.in)); diff != "" {
				t.Errorf("Assess (-want +got):\n%s", diff)
			}
		})
	}
}

// unknownOf is the resolution error iampolicy gives for an inline document.
func unknownOf(t *testing.T, doc string) string {
	t.Helper()
	_, err := iampolicy.Resolve(iampolicy.PolicySet{Inline: inline(doc)}, iampolicy.Catalog{})
	if err == nil {
		t.Fatalf("%q resolved", doc)
	}
	return err.Error()
}

// TestAssessNothingKeepsTheJSON: a user with no policy has null lists in the
// report, as it always had.
func TestAssessNothingKeepsTheJSON(t *testing.T) {
	got, err := json.Marshal(Assess(UserPolicies{}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"admin":false,"dangerous":null,"groups":null,"assumable_roles":null}`; string(got) != want {
		t.Errorf("json = %s, want %s", got, want)
	}
}
