package iampolicy

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// doc wraps statements into a policy document.
func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// encode percent-encodes a document the way GetAccountAuthorizationDetails
// returns it.
func encode(d string) string { return url.PathEscape(d) }

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Document
	}{
		{
			name: "statement as a single object with string fields",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`,
			want: Document{Version: "2012-10-17", Statements: []Statement{
				{Effect: Allow, Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}},
			}},
		},
		{
			name: "statement array with array fields, sid and id",
			doc: `{"Version":"2012-10-17","Id":"p1","Statement":[
				{"Sid":"A","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":["arn:aws:s3:::x","arn:aws:s3:::y"]}]}`,
			want: Document{Version: "2012-10-17", ID: "p1", Statements: []Statement{
				{Sid: "A", Effect: Deny, NotAction: []string{"iam:*", "sts:*"}, NotResource: []string{"arn:aws:s3:::x", "arn:aws:s3:::y"}},
			}},
		},
		{
			name: "percent-encoded document as IAM returns it",
			doc:  encode(doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`)),
			want: Document{Version: "2012-10-17", Statements: []Statement{
				{Effect: Allow, Action: []string{"*"}, Resource: []string{"*"}},
			}},
		},
		{
			name: "trust policy principals of every kind and a condition with scalars",
			doc: doc(
				`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`,
				`{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root"],"Service":"ec2.amazonaws.com",
				  "Federated":"cognito-identity.amazonaws.com","CanonicalUser":"abc"},"Action":"sts:AssumeRole",
				  "Condition":{"StringEquals":{"sts:ExternalId":"x"},"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"aws:MultiFactorAuthAge":[3600]}}}`,
				`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}`,
			),
			want: Document{Version: "2012-10-17", Statements: []Statement{
				{Effect: Allow, Principal: &Principal{All: true}, Action: []string{"sts:AssumeRole"}},
				{Effect: Allow, Principal: &Principal{
					AWS: []string{"111122223333", "arn:aws:iam::444455556666:root"}, Service: []string{"ec2.amazonaws.com"},
					Federated: []string{"cognito-identity.amazonaws.com"}, CanonicalUser: []string{"abc"},
				}, Action: []string{"sts:AssumeRole"}, Condition: Condition{
					"StringEquals":    {"sts:ExternalId": {"x"}},
					"Bool":            {"aws:SecureTransport": {"false"}},
					"NumericLessThan": {"aws:MultiFactorAuthAge": {"3600"}},
				}},
				{Effect: Deny, NotPrincipal: &Principal{AWS: []string{"arn:aws:iam::111122223333:root"}}, Action: []string{"sts:AssumeRole"}},
			}},
		},
		{
			name: "surrounding whitespace and an empty statement list",
			doc:  "\n  {\"Statement\":[]}  \n",
			want: Document{Statements: []Statement{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.doc)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRejectsBadInputNamingTheProblem(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "  ", "empty"},
		{"not json", "{nope", "not a JSON object"},
		{"bad percent encoding", "%7B%zz", "percent-encoded"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"unknown version", `{"Version":"2020-01-01","Statement":[]}`, `unknown Version "2020-01-01"`},
		{"unknown top-level element", `{"Statement":[],"Foo":1}`, `unknown policy element "Foo"`},
		{"statement not an object", `{"Statement":[1]}`, "statement 1: not a JSON object"},
		{"statement scalar", `{"Statement":"x"}`, "Statement must be"},
		{"bad effect", doc(`{"Effect":"allow","Action":"*","Resource":"*"}`), `statement 1: Effect "allow" must be Allow or Deny`},
		{"missing effect", doc(`{"Action":"*","Resource":"*"}`), `Effect "" must be`},
		{"action and notaction", doc(`{"Effect":"Allow","Action":"*","NotAction":"iam:*","Resource":"*"}`), "exactly one of Action and NotAction"},
		{"no action", doc(`{"Effect":"Allow","Resource":"*"}`), "exactly one of Action and NotAction"},
		{"resource and notresource", doc(`{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"x"}`), "both Resource and NotResource"},
		{"principal and notprincipal", doc(`{"Effect":"Allow","Action":"*","Principal":"*","NotPrincipal":"*"}`), "both Principal and NotPrincipal"},
		{"action number", doc(`{"Effect":"Allow","Action":7,"Resource":"*"}`), "Action must be a string or a non-empty array"},
		{"action empty array", doc(`{"Effect":"Allow","Action":[],"Resource":"*"}`), "Action must be a string or a non-empty array"},
		{"action null", doc(`{"Effect":"Allow","Action":null,"Resource":"*"}`), "Action must not be null"},
		{"action array of numbers", doc(`{"Effect":"Allow","Action":[1],"Resource":"*"}`), "Action must be"},
		{"principal other string", doc(`{"Effect":"Allow","Action":"*","Principal":"me"}`), `Principal string must be "*"`},
		{"unknown principal type", doc(`{"Effect":"Allow","Action":"*","Principal":{"Robot":"x"}}`), `unknown Principal type "Robot"`},
		{"unknown statement element", doc(`{"Effect":"Allow","Action":"*","Resources":"*"}`), `unknown statement element "Resources"`},
		{"condition not an object", doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}`), "Condition must map"},
		{"condition nested value", doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}`), "Condition StringEquals k"},
		{"sid not a string", doc(`{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}`), "Sid must be a string"},
		{"too large", `{"Statement":[` + strings.Repeat(" ", maxDocument) + `]}`, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.doc)
			if err == nil {
				t.Fatalf("Parse accepted %.80q", tt.doc)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %q, want it to mention %q", err, tt.want)
			}
		})
	}
}
