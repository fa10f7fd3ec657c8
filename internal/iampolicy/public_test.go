package iampolicy

import (
	"slices"
	"testing"
)

func TestPublicAllows(t *testing.T) {
	const cloudtrail = `{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},` +
		`"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/AWSLogs/123456789012/*"}`
	for _, tt := range []struct {
		name, stmt string
		want       []string
	}{
		{"CloudTrail's own statement is not public", cloudtrail, nil},
		{"Principal * is public", `{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`, []string{"Open"}},
		{"AWS * is public", `{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:ListBucket","Resource":"*"}`, []string{"statement 2"}},
		{"NotPrincipal with Allow is public", `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"*"}`, []string{"statement 2"}},
		{"a Deny to * is not", `{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, nil},
		{"* pinned to an organization is not", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}`, nil},
		{"* pinned to a source account is not", `{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"}}}`, nil},
		{"* with only TLS required is public", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, []string{"statement 2"}},
		{"* with a negated pin is public", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`, []string{"statement 2"}},
		{"* with an IfExists pin is public", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}}`, []string{"statement 2"}},
		{"* with a wildcard pin is public", `{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringLike":{"aws:PrincipalOrgID":"*"}}}`, []string{"statement 2"}},
	} {
		got, err := PublicAllows(`{"Version":"2012-10-17","Statement":[` + cloudtrail + `,` + tt.stmt + `]}`)
		if tt.stmt == cloudtrail {
			got, err = PublicAllows(`{"Version":"2012-10-17","Statement":[` + cloudtrail + `]}`)
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := PublicAllows(`{not json`); err == nil {
		t.Error("a broken document parsed")
	}
}
