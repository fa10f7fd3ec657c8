package iampolicy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	allowAll      = `{"Effect":"Allow","Action":"*","Resource":"*"}`
	allowAllColon = `{"Effect":"Allow","Action":"*:*","Resource":"*"}`
	s3OnlyPolicy  = `{"Effect":"Allow","Action":"s3:*","Resource":"*"}`
	boundaryARN   = "arn:aws:iam::111122223333:policy/boundary"
	powerUserARN  = "arn:aws:iam::aws:policy/PowerUserAccess"
	powerUserBody = `{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}`
)

// inline makes a user PolicySet with one inline policy per document.
func inline(docs ...string) PolicySet {
	var p PolicySet
	for i, d := range docs {
		p.Inline = append(p.Inline, InlinePolicy{Name: string(rune('a' + i)), Document: d})
	}
	return p
}

func resolve(t *testing.T, p PolicySet, c Catalog) Effective {
	t.Helper()
	e, err := Resolve(p, c)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return e
}

// adminSummary is what the audit reports of an AdminResult.
type adminSummary struct {
	Admin, Broad, Conditional bool
	ExceptActions             []string
	ExceptResources           []string
	Evidence                  []string
}

func summarise(r AdminResult) adminSummary {
	s := adminSummary{Admin: r.Admin, Broad: r.Broad, Conditional: r.Conditional,
		ExceptActions: r.ExceptActions, ExceptResources: r.ExceptResources}
	for _, ref := range r.Evidence {
		s.Evidence = append(s.Evidence, ref.String())
	}
	return s
}

func TestIsAdmin(t *testing.T) {
	groups := func(name string, g GroupPolicies) Catalog {
		return Catalog{Groups: map[string]GroupPolicies{name: g}}
	}
	tests := []struct {
		name string
		set  PolicySet
		cat  Catalog
		want adminSummary
	}{
		{
			name: "AdministratorAccess attached directly is admin without its document",
			set:  PolicySet{Attached: []string{AdministratorAccess}},
			want: adminSummary{Admin: true, Evidence: []string{AdministratorAccess + " statement 1"}},
		},
		{
			name: "AdministratorAccess in another partition is admin",
			set:  PolicySet{Attached: []string{"arn:aws-us-gov:iam::aws:policy/AdministratorAccess"}},
			want: adminSummary{Admin: true, Evidence: []string{"arn:aws-us-gov:iam::aws:policy/AdministratorAccess statement 1"}},
		},
		{
			name: "AdministratorAccess attached to a group is admin",
			set:  PolicySet{Groups: []string{"ops"}},
			cat:  groups("ops", GroupPolicies{Attached: []string{AdministratorAccess}}),
			want: adminSummary{Admin: true, Evidence: []string{"group:ops/" + AdministratorAccess + " statement 1"}},
		},
		{
			name: "star colon star in a group's inline policy is admin",
			set:  PolicySet{Groups: []string{"dev"}},
			cat:  groups("dev", GroupPolicies{Inline: []InlinePolicy{{Name: "all", Document: doc(allowAllColon)}}}),
			want: adminSummary{Admin: true, Evidence: []string{"group:dev/inline:all statement 1"}},
		},
		{
			name: "percent-encoded customer-managed policy granting star is admin",
			set:  PolicySet{Attached: []string{"arn:aws:iam::111122223333:policy/god"}},
			cat:  Catalog{Managed: map[string]string{"arn:aws:iam::111122223333:policy/god": encode(doc(allowAll))}},
			want: adminSummary{Admin: true, Evidence: []string{"arn:aws:iam::111122223333:policy/god statement 1"}},
		},
		{
			name: "scoped s3 GetObject on one bucket is not admin",
			set:  inline(doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}`)),
			want: adminSummary{},
		},
		{
			name: "star action on a scoped resource is not admin",
			set:  inline(doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::reports/*"}`)),
			want: adminSummary{},
		},
		{
			name: "star on an ARN wildcard resource is admin",
			set:  inline(doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:*:*:*:*"}`)),
			want: adminSummary{Admin: true, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "explicit deny of star cancels admin",
			set:  inline(doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*"}`)),
			want: adminSummary{},
		},
		{
			name: "deny of star in another policy cancels admin from a group",
			set:  PolicySet{Groups: []string{"ops"}, Inline: []InlinePolicy{{Name: "quarantine", Document: doc(`{"Effect":"Deny","Action":"*:*","Resource":"*"}`)}}},
			cat:  groups("ops", GroupPolicies{Attached: []string{AdministratorAccess}}),
			want: adminSummary{},
		},
		{
			name: "conditional deny of star makes admin conditional",
			set: inline(doc(allowAll, `{"Sid":"NoMFA","Effect":"Deny","NotAction":"iam:ChangePassword","Resource":"*",
				"Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)),
			want: adminSummary{Admin: true, Conditional: true, Evidence: []string{"inline:a statement 1", `inline:a statement "NoMFA"`}},
		},
		{
			name: "conditional deny of s3 leaves unconditional admin",
			set:  inline(doc(allowAll, `{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}`)),
			want: adminSummary{Admin: true, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "conditional deny of iam makes admin conditional",
			set:  inline(doc(allowAll, `{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":false}}}`)),
			want: adminSummary{Admin: true, Conditional: true, Evidence: []string{"inline:a statement 1", "inline:a statement 2"}},
		},
		{
			name: "deny scoped to some resources leaves admin",
			set:  inline(doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"arn:aws:s3:::vault/*"}`)),
			want: adminSummary{Admin: true, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "unconditional deny not-action denies nearly everything",
			set:  inline(doc(allowAll, `{"Effect":"Deny","NotAction":"iam:ChangePassword","Resource":"*"}`)),
			want: adminSummary{},
		},
		{
			name: "deny of s3 leaves admin that can escalate",
			set:  inline(doc(allowAll, `{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)),
			want: adminSummary{Admin: true, ExceptActions: []string{"s3:*"}, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "deny of iam turns admin into broad",
			set:  inline(doc(allowAll, `{"Effect":"Deny","Action":"iam:*","Resource":"*"}`)),
			want: adminSummary{Broad: true, ExceptActions: []string{"iam:*"}, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "conditional allow of star is conditional admin",
			set:  inline(doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)),
			want: adminSummary{Admin: true, Conditional: true, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "unconditional grant is preferred over a conditional one",
			set: inline(doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`,
				`{"Sid":"Plain","Effect":"Allow","Action":"*","Resource":"*"}`)),
			want: adminSummary{Admin: true, Evidence: []string{`inline:a statement "Plain"`}},
		},
		{
			name: "boundary that only allows s3 removes admin",
			set:  PolicySet{Attached: []string{AdministratorAccess}, Boundary: boundaryARN},
			cat:  Catalog{Managed: map[string]string{boundaryARN: doc(s3OnlyPolicy)}},
			want: adminSummary{},
		},
		{
			name: "boundary of AdministratorAccess keeps admin",
			set:  PolicySet{Attached: []string{AdministratorAccess}, Boundary: AdministratorAccess},
			want: adminSummary{Admin: true, Evidence: []string{AdministratorAccess + " statement 1", "boundary:" + AdministratorAccess + " statement 1"}},
		},
		{
			name: "boundary whose document is missing does not hide admin",
			set:  PolicySet{Attached: []string{AdministratorAccess}, Boundary: boundaryARN},
			want: adminSummary{Admin: true, Evidence: []string{AdministratorAccess + " statement 1"}},
		},
		{
			name: "boundary of power user makes admin broad",
			set:  PolicySet{Attached: []string{AdministratorAccess}, Boundary: powerUserARN},
			cat:  Catalog{Managed: map[string]string{powerUserARN: doc(powerUserBody)}},
			want: adminSummary{Broad: true, ExceptActions: []string{"account:*", "iam:*", "organizations:*"},
				Evidence: []string{AdministratorAccess + " statement 1", "boundary:" + powerUserARN + " statement 1"}},
		},
		{
			name: "not-action iam star is broad, not admin",
			set:  PolicySet{Attached: []string{powerUserARN}},
			cat:  Catalog{Managed: map[string]string{powerUserARN: doc(powerUserBody)}},
			want: adminSummary{Broad: true, ExceptActions: []string{"account:*", "iam:*", "organizations:*"}, Evidence: []string{powerUserARN + " statement 1"}},
		},
		{
			name: "not-action with a tiny exclusion on star is admin",
			set:  inline(doc(`{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"*"}`)),
			want: adminSummary{Admin: true, ExceptActions: []string{"s3:DeleteBucket"}, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "not-action iam star plus an allow of iam star is admin",
			set:  inline(doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`, `{"Effect":"Allow","Action":"IAM:*","Resource":"*"}`)),
			want: adminSummary{Admin: true, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "not-action on a scoped resource is not admin",
			set:  inline(doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:s3:::b/*"}`)),
			want: adminSummary{},
		},
		{
			name: "not-action of star grants nothing",
			set:  inline(doc(`{"Effect":"Allow","NotAction":"*","Resource":"*"}`)),
			want: adminSummary{},
		},
		{
			name: "star with not-resource is broad",
			set:  inline(doc(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::vault/*"}`)),
			want: adminSummary{Broad: true, ExceptResources: []string{"arn:aws:s3:::vault/*"}, Evidence: []string{"inline:a statement 1"}},
		},
		{
			name: "star with not-resource star grants nothing",
			set:  inline(doc(`{"Effect":"Allow","Action":"*","NotResource":"*"}`)),
			want: adminSummary{},
		},
		{
			name: "statement without a resource grants nothing",
			set:  inline(doc(`{"Effect":"Allow","Action":"*"}`)),
			want: adminSummary{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarise(IsAdmin(resolve(t, tt.set, tt.cat)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("IsAdmin mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
