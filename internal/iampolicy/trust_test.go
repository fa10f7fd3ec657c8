package iampolicy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCrossAccountWithoutExternalID(t *testing.T) {
	const own = "111122223333"
	assume := func(principal, extra string) string {
		return `{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"` + extra + `}`
	}
	const externalID = `,"Condition":{"StringEquals":{"sts:ExternalId":"k7-partner"}}`
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"own account root is not foreign", doc(assume(`{"AWS":"arn:aws:iam::111122223333:root"}`, "")), nil},
		{"own account id is not foreign", doc(assume(`{"AWS":"111122223333"}`, "")), nil},
		{"foreign account id without external id", doc(assume(`{"AWS":"444455556666"}`, "")), []string{"444455556666"}},
		{"foreign root arn without external id", doc(assume(`{"AWS":"arn:aws:iam::444455556666:root"}`, "")), []string{"arn:aws:iam::444455556666:root"}},
		{"foreign role arn without external id", doc(assume(`{"AWS":["arn:aws:iam::444455556666:role/ci","arn:aws:iam::111122223333:user/me"]}`, "")), []string{"arn:aws:iam::444455556666:role/ci"}},
		{"foreign root with external id is fine", doc(assume(`{"AWS":"arn:aws:iam::444455556666:root"}`, externalID)), nil},
		{"external id key matched case-insensitively", doc(assume(`{"AWS":"444455556666"}`, `,"Condition":{"StringLike":{"STS:externalid":["a*"]}}`)), nil},
		{"external id under IfExists does not protect", doc(assume(`{"AWS":"444455556666"}`, `,"Condition":{"StringEqualsIfExists":{"sts:ExternalId":"x"}}`)), []string{"444455556666"}},
		{"external id like star does not protect", doc(assume(`{"AWS":"444455556666"}`, `,"Condition":{"StringLike":{"sts:ExternalId":"*"}}`)), []string{"444455556666"}},
		{"external id under Null does not protect", doc(assume(`{"AWS":"444455556666"}`, `,"Condition":{"Null":{"sts:ExternalId":"false"}}`)), []string{"444455556666"}},
		{"other conditions are not evaluated", doc(assume(`{"AWS":"444455556666"}`, `,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}`)), []string{"444455556666"}},
		{"bare star principal is foreign", doc(assume(`"*"`, "")), []string{"*"}},
		{"aws star principal is foreign", doc(assume(`{"AWS":"*"}`, "")), []string{"*"}},
		{"star with external id is fine", doc(assume(`"*"`, externalID)), nil},
		{"service principal is ignored", doc(assume(`{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]}`, "")), nil},
		{"federated principal is ignored", doc(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::444455556666:saml-provider/x"},"Action":"sts:AssumeRoleWithSAML"}`), nil},
		{"unique id of a deleted principal is ignored", doc(assume(`{"AWS":"AROAEXAMPLEUNIQUEID1"}`, "")), nil},
		{"deny statement is ignored", doc(`{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}`), nil},
		{"sts star action counts", doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:*"}`), []string{"444455556666"}},
		{"tag session alone does not count", doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:TagSession"}`), nil},
		{"allow with not-principal lets everyone else in", doc(`{"Effect":"Allow","NotPrincipal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}`), []string{"*"}},
		{"percent-encoded trust policy with duplicates", encode(doc(assume(`{"AWS":"444455556666"}`, ""), assume(`{"AWS":["444455556666","arn:aws:iam::777788889999:root"]}`, ""))),
			[]string{"444455556666", "arn:aws:iam::777788889999:root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CrossAccountWithoutExternalID(tt.doc, own)
			if err != nil {
				t.Fatalf("CrossAccountWithoutExternalID: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("foreign principals mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCrossAccountWithoutExternalIDRejectsBadTrustPolicy(t *testing.T) {
	_, err := CrossAccountWithoutExternalID(`{"Statement":{"Effect":"Allow"}}`, "111122223333")
	if err == nil || !strings.HasPrefix(err.Error(), "trust policy: ") {
		t.Errorf("error = %v, want one starting with %q", err, "trust policy: ")
	}
}
