package audit

import (
	"strings"
	"testing"
)

func TestCheckDirectPolicies(t *testing.T) {
	direct := func(policies ...string) Inventory {
		u := user("dev")
		u.DirectPolicies = policies
		return account(u)
	}
	unread := direct()
	unread.Users[0].DetailsRead = false
	runCases(t, checkDirectPolicies, []checkCase{
		{"an inline policy fails", direct("inline:s3"), nil, []string{"KW-USER-POLICY-DIRECT low dev"}},
		{"an attached managed policy fails", direct("arn:aws:iam::aws:policy/ReadOnlyAccess"), nil, []string{"KW-USER-POLICY-DIRECT low dev"}},
		{"rights through groups only pass", direct(), nil, nil},
		{"unread details are unknown", unread, nil, []string{"KW-USER-POLICY-DIRECT low dev unknown"}},
	})
	fs := checkDirectPolicies(direct("inline:s3", "arn:aws:iam::aws:policy/ReadOnlyAccess"), DefaultConfig(asOf))
	for _, want := range []string{"delete-user-policy --user-name dev --policy-name s3", "detach-user-policy --user-name dev --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		if len(fs) != 1 || !strings.Contains(fs[0].Remediation, want) {
			t.Errorf("remediation lacks %q: %+v", want, fs)
		}
	}
}

func TestCheckAdminStarPolicies(t *testing.T) {
	const (
		star      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
		starList  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","*"],"Resource":["*"]}]}`
		encoded   = `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D`
		oneBucket = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::logs/*"}]}`
		s3Star    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
		denyStar  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	)
	with := func(doc string, attachments int) Inventory {
		inv := account()
		inv.CustomerPolicies = []ManagedPolicy{{Name: "p", ARN: "arn:aws:iam::" + testAccount + ":policy/p", Attachments: attachments, Document: doc}}
		return inv
	}
	unread := account()
	unread.CustomerPoliciesRead = false
	runCases(t, checkAdminStarPolicies, []checkCase{
		{"attached * on * is high", with(star, 2), nil, []string{"KW-POLICY-ADMIN-STAR high p"}},
		{"unattached * on * is medium", with(star, 0), nil, []string{"KW-POLICY-ADMIN-STAR medium p"}},
		{"* among other actions fails", with(starList, 1), nil, []string{"KW-POLICY-ADMIN-STAR high p"}},
		{"URL-encoded, as IAM returns it, fails", with(encoded, 1), nil, []string{"KW-POLICY-ADMIN-STAR high p"}},
		{"* on one bucket passes", with(oneBucket, 1), nil, nil},
		{"s3:* on * passes (not full admin)", with(s3Star, 1), nil, nil},
		{"Deny * on * passes", with(denyStar, 1), nil, nil},
		{"an unparsable document is unknown", with("{", 1), nil, []string{"KW-POLICY-ADMIN-STAR low p unknown"}},
		{"unread policies are unknown", unread, nil, []string{"KW-POLICY-ADMIN-STAR low root unknown"}},
	})
}

func TestCheckTrailSettings(t *testing.T) {
	noValidation := account()
	noValidation.Trails = []Trail{trailWith(func(t *Trail) { t.LogFileValidation = false })}
	noKMS := account()
	noKMS.Trails = []Trail{trailWith(func(t *Trail) { t.KMSKeyID = "" })}
	unread := account()
	unread.Trails, unread.TrailsRead = nil, false
	runCases(t, checkTrailValidation, []checkCase{
		{"no validation fails", noValidation, nil, []string{"KW-CT-LOG-VALIDATION medium main"}},
		{"validation on passes", account(), nil, nil},
		{"KMS does not stand in for validation", noKMS, nil, nil},
		{"unread trails are unknown", unread, nil, []string{"KW-CT-LOG-VALIDATION low root unknown"}},
	})
	noLogs := account()
	noLogs.Trails = []Trail{trailWith(func(t *Trail) { t.LogGroupARN = "" })}
	runCases(t, checkTrailLogs, []checkCase{
		{"S3 only fails", noLogs, nil, []string{"KW-CT-NO-CLOUDWATCH low main"}},
		{"a log group passes", account(), nil, nil},
		{"unread trails are unknown", unread, nil, []string{"KW-CT-NO-CLOUDWATCH low root unknown"}},
	})
	runCases(t, checkTrailKMS, []checkCase{
		{"no KMS key fails", noKMS, nil, []string{"KW-CT-KMS medium main"}},
		{"a KMS key passes", account(), nil, nil},
		{"validation does not stand in for KMS", noValidation, nil, nil},
		{"unread trails are unknown", unread, nil, []string{"KW-CT-KMS low root unknown"}},
	})
}

func TestCheckCloudShell(t *testing.T) {
	const full = "arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
	withUser := func(policies ...string) Inventory {
		u := user("dev")
		u.DirectPolicies = policies
		return account(u)
	}
	withGroup := account()
	withGroup.Groups = []Group{{Name: "ops", Attached: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", full}}}
	withRole := account()
	withRole.Roles = []Role{{Name: "shell", ARN: "arn:aws:iam::" + testAccount + ":role/shell", TrustKnown: true,
		Attached: []string{"arn:aws-us-gov:iam::aws:policy/AWSCloudShellFullAccess"}}}
	unread := account()
	unread.GroupsRead = false
	runCases(t, checkCloudShell, []checkCase{
		{"a user with it fails", withUser(full), nil, []string{"KW-CLOUDSHELL-FULL medium dev"}},
		{"a group with it fails", withGroup, nil, []string{"KW-CLOUDSHELL-FULL medium ops"}},
		{"a role with it, in any partition, fails", withRole, nil, []string{"KW-CLOUDSHELL-FULL medium shell"}},
		{"a customer policy of the same name passes", withUser("arn:aws:iam::" + testAccount + ":policy/AWSCloudShellFullAccess"), nil, nil},
		{"read-only CloudShell access passes", withUser("arn:aws:iam::aws:policy/AWSCloudShellReadOnlyAccess"), nil, nil},
		{"unread groups are unknown", unread, nil, []string{"KW-CLOUDSHELL-FULL low root unknown"}},
	})
}

func TestCheckServiceStarPolicies(t *testing.T) {
	with := func(doc string) Inventory {
		inv := account()
		inv.CustomerPolicies = []ManagedPolicy{{Name: "p", ARN: "arn:aws:iam::" + testAccount + ":policy/p", Attachments: 1, Document: doc}}
		return inv
	}
	const (
		s3Star   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","S3:GetObject"],"Resource":"arn:aws:s3:::logs/*"}]}`
		prefix   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`
		denyStar = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
		full     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	)
	unread := account()
	unread.CustomerPoliciesRead = false
	runCases(t, checkServiceStarPolicies, []checkCase{
		{"s3:* on any resource fails", with(s3Star), nil, []string{"KW-POLICY-SERVICE-STAR low p"}},
		{"s3:Get* passes", with(prefix), nil, nil},
		{"Deny iam:* passes", with(denyStar), nil, nil},
		{"* on * is KW-POLICY-ADMIN-STAR's", with(full), nil, nil},
		{"unread policies are left to KW-POLICY-ADMIN-STAR", unread, nil, nil},
	})
}
