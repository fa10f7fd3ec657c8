package iampolicy

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// capSummary is "NAME from EVIDENCE", with " (conditional)" when it is.
func capSummary(caps []Capability) []string {
	var out []string
	for _, c := range caps {
		s := c.Name + " from " + c.Evidence.String()
		if c.Conditional {
			s += " (conditional)"
		}
		out = append(out, s)
	}
	return out
}

func TestDangerous(t *testing.T) {
	const role = "arn:aws:iam::111122223333:role/app"
	tests := []struct {
		name string
		set  PolicySet
		cat  Catalog
		want []string
	}{
		{
			name: "iam Create star grants CreateAccessKey and CreateUser",
			set:  inline(doc(`{"Effect":"Allow","Action":"iam:Create*","Resource":"*"}`)),
			want: []string{"iam:CreateAccessKey from inline:a statement 1", "iam:CreateUser from inline:a statement 1"},
		},
		{
			name: "ses Send star Email grants both send actions",
			set:  inline(doc(`{"Effect":"Allow","Action":"ses:Send*Email","Resource":"arn:aws:ses:eu-west-1:111122223333:identity/example.com"}`)),
			want: []string{"ses:SendEmail from inline:a statement 1", "ses:SendRawEmail from inline:a statement 1"},
		},
		{
			name: "ec2 Run star on a scoped resource still counts",
			set:  inline(doc(`{"Effect":"Allow","Action":["ec2:Describe*","ec2:Run*"],"Resource":"arn:aws:ec2:*:*:instance/*"}`)),
			want: []string{"ec2:RunInstances from inline:a statement 1"},
		},
		{
			name: "PassRole on one role counts",
			set:  inline(doc(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"` + role + `"}`)),
			want: []string{"iam:PassRole from inline:a statement 1"},
		},
		{
			name: "s3 star on one bucket does not count",
			set:  inline(doc(`{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}`)),
			want: nil,
		},
		{
			name: "s3 GetObject on star counts as s3 on everything",
			set:  inline(doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`)),
			want: []string{"s3:* from inline:a statement 1"},
		},
		{
			name: "s3 PutObject on every bucket's objects counts",
			set:  inline(doc(`{"Effect":"Allow","Action":"s3:Put*","Resource":"arn:aws:s3:::*/*"}`)),
			want: []string{"s3:* from inline:a statement 1"},
		},
		{
			name: "s3 ListAllMyBuckets on star does not count",
			set:  inline(doc(`{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}`)),
			want: nil,
		},
		{
			name: "admin through a group grants every capability",
			set:  PolicySet{Groups: []string{"ops"}},
			cat:  Catalog{Groups: map[string]GroupPolicies{"ops": {Attached: []string{AdministratorAccess}}}},
			want: func() []string {
				var out []string
				for _, n := range CapabilityNames() {
					out = append(out, n+" from group:ops/"+AdministratorAccess+" statement 1")
				}
				return out
			}(),
		},
		{
			name: "not-action iam star grants everything but the iam capabilities",
			set:  inline(doc(powerUserBody)),
			want: []string{"ec2:RunInstances from inline:a statement 1", "s3:* from inline:a statement 1",
				"ses:SendEmail from inline:a statement 1", "ses:SendRawEmail from inline:a statement 1"},
		},
		{
			name: "not-resource statement counts for any-resource capabilities only",
			set:  inline(doc(`{"Effect":"Allow","Action":["ec2:RunInstances","s3:GetObject"],"NotResource":"arn:aws:s3:::vault/*"}`)),
			want: []string{"ec2:RunInstances from inline:a statement 1"},
		},
		{
			name: "unconditional deny of iam star cancels iam capabilities",
			set:  inline(doc(`{"Effect":"Allow","Action":["iam:CreateUser","ec2:RunInstances"],"Resource":"*"}`, `{"Effect":"Deny","Action":"iam:*","Resource":"*"}`)),
			want: []string{"ec2:RunInstances from inline:a statement 1"},
		},
		{
			name: "deny on the same role cancels PassRole",
			set:  inline(doc(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+role+`"}`, `{"Effect":"Deny","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/*"}`)),
			want: nil,
		},
		{
			name: "deny on another role leaves PassRole",
			set:  inline(doc(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"`+role+`"}`, `{"Effect":"Deny","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/admin"}`)),
			want: []string{"iam:PassRole from inline:a statement 1"},
		},
		{
			name: "conditional allow is marked conditional",
			set:  inline(doc(`{"Effect":"Allow","Action":"ses:SendEmail","Resource":"*","Condition":{"StringEquals":{"ses:FromAddress":"no-reply@example.com"}}}`)),
			want: []string{"ses:SendEmail from inline:a statement 1 (conditional)"},
		},
		{
			name: "conditional deny marks the grant conditional",
			set:  inline(doc(`{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*"}`, `{"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}`)),
			want: []string{"ec2:RunInstances from inline:a statement 1 (conditional)"},
		},
		{
			name: "boundary that only allows s3 leaves only s3",
			set:  PolicySet{Attached: []string{AdministratorAccess}, Boundary: boundaryARN},
			cat:  Catalog{Managed: map[string]string{boundaryARN: doc(s3OnlyPolicy)}},
			want: []string{"s3:* from " + AdministratorAccess + " statement 1"},
		},
		{
			name: "boundary deny applies too",
			set:  PolicySet{Attached: []string{AdministratorAccess}, Boundary: boundaryARN},
			cat:  Catalog{Managed: map[string]string{boundaryARN: doc(allowAll, `{"Effect":"Deny","NotAction":"ses:*","Resource":"*"}`)}},
			want: []string{"ses:SendEmail from " + AdministratorAccess + " statement 1", "ses:SendRawEmail from " + AdministratorAccess + " statement 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := capSummary(Dangerous(resolve(t, tt.set, tt.cat)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Dangerous mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCapabilityNamesAreSortedAndComplete(t *testing.T) {
	names := CapabilityNames()
	if !sort.StringsAreSorted(names) {
		t.Errorf("CapabilityNames not sorted: %v", names)
	}
	want := []string{"ec2:RunInstances", "iam:AttachUserPolicy", "iam:CreateAccessKey", "iam:CreateUser",
		"iam:PassRole", "s3:*", "ses:SendEmail", "ses:SendRawEmail"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("CapabilityNames mismatch (-want +got):\n%s", diff)
	}
}

func TestAllowedResourcesListsAssumableRoles(t *testing.T) {
	e := resolve(t, inline(doc(
		`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["arn:aws:iam::111122223333:role/b","arn:aws:iam::111122223333:role/a"]}`,
		`{"Effect":"Allow","Action":"sts:*","Resource":"arn:aws:iam::444455556666:role/x"}`,
		`{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::444455556666:role/*"}`,
		`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`,
	)), Catalog{})
	got := AllowedResources(e, "sts:AssumeRole")
	want := []string{"arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AllowedResources mismatch (-want +got):\n%s", diff)
	}
	bounded := e
	bounded.Boundary = &Boundary{ARN: boundaryARN, Known: true,
		Allow: []Ref{{Source: "boundary", Statement: Statement{Effect: Allow, Action: []string{"s3:*"}, Resource: []string{"*"}}}}}
	if got := AllowedResources(bounded, "sts:AssumeRole"); got != nil {
		t.Errorf("AllowedResources under an s3-only boundary = %v, want none", got)
	}
}

func TestGrantsOnEveryResource(t *testing.T) {
	e := resolve(t, inline(doc(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app"}`)), Catalog{})
	if _, ok := Grants(e, "iam:PassRole", false); !ok {
		t.Error("Grants(PassRole, some resource) = false, want true")
	}
	if _, ok := Grants(e, "iam:PassRole", true); ok {
		t.Error("Grants(PassRole, every resource) = true for a single role, want false")
	}
}
