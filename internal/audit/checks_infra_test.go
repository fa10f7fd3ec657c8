package audit

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/severity"
)

// goodTrail is a logging multi-region trail with no selectors (CloudTrail's
// default: every management event).
func goodTrail() Trail {
	return Trail{
		Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:" + testAccount + ":trail/main", HomeRegion: "us-east-1",
		MultiRegion: true, Logging: Yes, SelectorsKnown: true,
		LogFileValidation: true, KMSKeyID: "arn:aws:kms:us-east-1:" + testAccount + ":key/trail",
		LogGroupARN: "arn:aws:logs:us-east-1:" + testAccount + ":log-group:trail:*", Bucket: "trail-logs",
		TagsRead: true, Tags: ownerTag(),
	}
}

func trailWith(mod func(*Trail)) Trail {
	t := goodTrail()
	mod(&t)
	return t
}

func mgmt(rw string) EventSelector {
	return EventSelector{ReadWriteType: rw, IncludeManagementEvents: true}
}

func adv(fields ...FieldSelector) AdvancedSelector {
	return AdvancedSelector{Name: "sel", Fields: fields}
}

var (
	categoryManagement = FieldSelector{Field: "eventCategory", Equals: []string{"Management"}}
	readOnlyTrue       = FieldSelector{Field: "readOnly", Equals: []string{"true"}}
	readOnlyFalse      = FieldSelector{Field: "readOnly", Equals: []string{"false"}}
)

func TestCheckMultiRegionTrail(t *testing.T) {
	tests := []struct {
		name   string
		trails []Trail
		read   bool
		want   []string
	}{
		{"trails not read is unknown", nil, false, []string{"KW-CT-MULTI-REGION low root unknown"}},
		{"no trail at all fails", nil, true, []string{"KW-CT-MULTI-REGION high root"}},
		{"multi-region logging with no selectors passes", []Trail{goodTrail()}, true, nil},
		{"single-region trail only fails", []Trail{trailWith(func(t *Trail) { t.MultiRegion = false })}, true,
			[]string{"KW-CT-MULTI-REGION high root"}},
		{"multi-region trail not logging fails", []Trail{trailWith(func(t *Trail) { t.Logging = No })}, true,
			[]string{"KW-CT-MULTI-REGION high root"}},
		{"classic selector all management passes", []Trail{trailWith(func(t *Trail) { t.EventSelectors = []EventSelector{mgmt("All")} })}, true, nil},
		{"classic selector write only fails", []Trail{trailWith(func(t *Trail) { t.EventSelectors = []EventSelector{mgmt("WriteOnly")} })}, true,
			[]string{"KW-CT-MULTI-REGION high root"}},
		{"classic read only plus write only selectors pass", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{mgmt("ReadOnly"), mgmt("WriteOnly")}
		})}, true, nil},
		{"classic selector without management events fails", []Trail{trailWith(func(t *Trail) {
			t.EventSelectors = []EventSelector{{ReadWriteType: "All"}}
		})}, true, []string{"KW-CT-MULTI-REGION high root"}},
		{"classic selector excluding kms events fails", []Trail{trailWith(func(t *Trail) {
			s := mgmt("All")
			s.ExcludeManagementEventSources = []string{"kms.amazonaws.com"}
			t.EventSelectors = []EventSelector{s}
		})}, true, []string{"KW-CT-MULTI-REGION high root"}},
		{"advanced management selector passes", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryManagement)}
		})}, true, nil},
		{"advanced management selector with readOnly filter fails", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryManagement, readOnlyFalse)}
		})}, true, []string{"KW-CT-MULTI-REGION high root"}},
		{"advanced read and write selectors together pass", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryManagement, readOnlyTrue), adv(readOnlyFalse, categoryManagement)}
		})}, true, nil},
		{"advanced selector excluding an event source fails", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(categoryManagement, FieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}})}
		})}, true, []string{"KW-CT-MULTI-REGION high root"}},
		{"advanced data selector only fails", []Trail{trailWith(func(t *Trail) {
			t.AdvancedSelectors = []AdvancedSelector{adv(FieldSelector{Field: "eventCategory", Equals: []string{"Data"}},
				FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}})}
		})}, true, []string{"KW-CT-MULTI-REGION high root"}},
		{"unknown logging is unknown, not a pass", []Trail{trailWith(func(t *Trail) { t.Logging = Unknown })}, true,
			[]string{"KW-CT-MULTI-REGION low root unknown"}},
		{"unknown selectors are unknown, not a pass", []Trail{trailWith(func(t *Trail) { t.SelectorsKnown = false })}, true,
			[]string{"KW-CT-MULTI-REGION low root unknown"}},
		{"one good trail among bad and unknown ones passes", []Trail{
			trailWith(func(t *Trail) { t.MultiRegion = false }),
			trailWith(func(t *Trail) { t.SelectorsKnown = false }),
			goodTrail(),
		}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.Trails, inv.TrailsRead = tt.trails, tt.read
			fs := checkMultiRegionTrail(inv, DefaultConfig(asOf))
			var want []string = tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Remediation == "" || !strings.Contains(f.Remediation, "aws cloudtrail ") {
					t.Errorf("remediation %q: want an aws cloudtrail command", f.Remediation)
				}
			}
		})
	}
}

func TestMultiRegionTrailRemediationFixesTheTrail(t *testing.T) {
	inv := account()
	inv.Trails = []Trail{trailWith(func(t *Trail) {
		t.Logging = No
		t.EventSelectors = []EventSelector{mgmt("WriteOnly")}
	})}
	fs := checkMultiRegionTrail(inv, DefaultConfig(asOf))
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	arn := inv.Trails[0].ARN
	for _, want := range []string{
		"aws cloudtrail start-logging --region us-east-1 --name " + arn,
		"aws cloudtrail put-event-selectors --region us-east-1 --trail-name " + arn,
	} {
		if !strings.Contains(fs[0].Remediation, want) {
			t.Errorf("remediation %q lacks %q", fs[0].Remediation, want)
		}
	}
	trails := fs[0].Evidence["trails"].([]map[string]any)
	if len(trails) != 1 || trails[0]["logging"] != "no" || trails[0]["read_write_management_events"] != "no" {
		t.Errorf("evidence trails = %v", trails)
	}
}

// role builds a role the way the reader does: through iampolicy.
func role(t *testing.T, name, trustStatement string) Role {
	t.Helper()
	doc := `{"Version":"2012-10-17","Statement":[` + trustStatement + `]}`
	foreign, err := iampolicy.CrossAccountWithoutExternalID(doc, testAccount)
	if err != nil {
		t.Fatal(err)
	}
	return Role{Name: name, ARN: "arn:aws:iam::" + testAccount + ":role/" + name, TrustKnown: true, ForeignNoExternalID: foreign}
}

func TestCheckRoleTrust(t *testing.T) {
	assume := func(principal, extra string) string {
		return `{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"` + extra + `}`
	}
	const extID = `,"Condition":{"StringEquals":{"sts:ExternalId":"partner-7"}}`
	tests := []struct {
		name  string
		trust string
		want  []string
	}{
		{"role trusting its own account passes", assume(`{"AWS":"arn:aws:iam::123456789012:root"}`, ""), nil},
		{"service role passes", assume(`{"Service":"ec2.amazonaws.com"}`, ""), nil},
		{"foreign account with external id passes", assume(`{"AWS":"444455556666"}`, extID), nil},
		{"foreign account without external id fails", assume(`{"AWS":"arn:aws:iam::444455556666:root"}`, ""),
			[]string{"KW-ROLE-TRUST-NO-EXTID medium r"}},
		{"anyone fails critical", assume(`"*"`, ""), []string{"KW-ROLE-TRUST-NO-EXTID critical r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.Roles = []Role{role(t, "r", tt.trust)}
			fs := checkRoleTrust(inv, DefaultConfig(asOf))
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if !strings.Contains(f.Remediation, "aws iam update-assume-role-policy --role-name r ") ||
					len(f.Evidence["principals"].([]string)) == 0 {
					t.Errorf("finding %+v: want principals and an update-assume-role-policy command", f)
				}
			}
		})
	}
}

// TestCheckRoleTrustOfTheManagementAccount: with --org, a member's role
// trusting only the organization's management account (AWS Organizations'
// OrganizationAccountAccessRole) is how the organization administers the
// member: info, said so. Trusting it and a third party is still medium.
func TestCheckRoleTrustOfTheManagementAccount(t *testing.T) {
	const mgmt = "444455556666"
	trust := func(principals string) string {
		return `{"Effect":"Allow","Principal":{"AWS":` + principals + `},"Action":"sts:AssumeRole"}`
	}
	tests := []struct {
		name, principals, management string
		want                         []string
	}{
		{"the management account's root", `"arn:aws:iam::` + mgmt + `:root"`, mgmt, []string{"KW-ROLE-TRUST-NO-EXTID info r"}},
		{"the bare management account", `"` + mgmt + `"`, mgmt, []string{"KW-ROLE-TRUST-NO-EXTID info r"}},
		{"the management account and a third party", `["arn:aws:iam::` + mgmt + `:root","777788889999"]`, mgmt,
			[]string{"KW-ROLE-TRUST-NO-EXTID medium r"}},
		{"management account unknown", `"arn:aws:iam::` + mgmt + `:root"`, "", []string{"KW-ROLE-TRUST-NO-EXTID medium r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.OrgManagement = tt.management
			inv.Roles = []Role{role(t, "r", trust(tt.principals))}
			fs := checkRoleTrust(inv, DefaultConfig(asOf))
			if diff := cmp.Diff(tt.want, summary(fs)); diff != "" {
				t.Fatalf("findings (-want +got):\n%s", diff)
			}
			if f := fs[0]; f.Severity == severity.Info &&
				(f.Title != "Role trusts the Organization's management account" || f.Evidence["trusted"] != "the organization's management account "+mgmt) {
				t.Errorf("finding %+v: want it to say it trusts the management account", f)
			}
		})
	}
}

func TestCheckRoleTrustUnknown(t *testing.T) {
	inv := account()
	inv.RolesRead = false
	if diff := cmp.Diff([]string{"KW-ROLE-TRUST-NO-EXTID low root unknown"},
		summary(checkRoleTrust(inv, DefaultConfig(asOf)))); diff != "" {
		t.Errorf("roles not read (-want +got):\n%s", diff)
	}
	inv = account()
	inv.Roles = []Role{{Name: "odd", ARN: "arn:aws:iam::123456789012:role/odd"}}
	if diff := cmp.Diff([]string{"KW-ROLE-TRUST-NO-EXTID low odd unknown"},
		summary(checkRoleTrust(inv, DefaultConfig(asOf)))); diff != "" {
		t.Errorf("unreadable trust policy (-want +got):\n%s", diff)
	}
}

func TestCheckInstanceProfiles(t *testing.T) {
	const profile = "arn:aws:iam::123456789012:instance-profile/web"
	tests := []struct {
		name      string
		instances []Instance
		read      bool
		want      []string
	}{
		{"instances not read is unknown", nil, false, []string{"KW-EC2-NO-PROFILE low root unknown"}},
		{"no instances passes", nil, true, nil},
		{"instance with profile passes", []Instance{{ID: "i-1", Region: "eu-west-1", State: "running", Profile: profile}}, true, nil},
		{"running instance without profile fails", []Instance{{ID: "i-2", Region: "eu-west-1", State: "running"}}, true,
			[]string{"KW-EC2-NO-PROFILE medium i-2"}},
		{"stopped instance without profile fails", []Instance{{ID: "i-3", Region: "eu-west-1", State: "stopped"}}, true,
			[]string{"KW-EC2-NO-PROFILE medium i-3"}},
		{"terminated instance is skipped", []Instance{{ID: "i-4", Region: "eu-west-1", State: "terminated"}}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := account()
			inv.Instances, inv.InstancesRead = tt.instances, tt.read
			fs := checkInstanceProfiles(inv, DefaultConfig(asOf))
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Evidence["verdict"] == "unknown" {
					continue
				}
				id := f.Evidence["instance_id"]
				if f.Resource != "arn:aws:ec2:eu-west-1:123456789012:instance/"+id.(string) ||
					!strings.Contains(f.Remediation, "aws ec2 associate-iam-instance-profile --region eu-west-1 --instance-id "+id.(string)) {
					t.Errorf("finding %+v: want the instance ARN and an associate-iam-instance-profile command", f)
				}
			}
		})
	}
}
