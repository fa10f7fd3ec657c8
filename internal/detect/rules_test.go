package detect

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// ev decodes one hand-written record.
func ev(t testing.TB, raw string) cloudtrail.Event {
	t.Helper()
	e, err := cloudtrail.Decode([]byte(raw))
	if err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return e
}

// rec is one record with the fields rules judge; extra is spliced in
// (`"k":v,` pairs) for the few that need more; invokedBy names the AWS
// service that made the call for the identity.
type rec struct {
	source, name, idType, arn, ua, ip, errCode, req, extra, invokedBy string
}

func (r rec) event(t testing.TB) cloudtrail.Event {
	if r.idType == "" {
		r.idType = "IAMUser"
	}
	if r.arn == "" {
		r.arn = "arn:aws:iam::111122223333:user/alice"
	}
	if r.req == "" {
		r.req = "null"
	}
	if r.ip == "" {
		r.ip = "203.0.113.7"
	}
	return ev(t, fmt.Sprintf(`{%s"eventID":"e","eventTime":"2024-08-01T10:00:00Z","eventSource":%q,"eventName":%q,
		"userAgent":%q,"sourceIPAddress":%q,"errorCode":%q,"userIdentity":{"type":%q,"userName":"alice",
		"accessKeyId":"AKIAIOSFODNN7EXAMPLE","arn":%q,"invokedBy":%q},"requestParameters":%s}`,
		r.extra, r.source, r.name, r.ua, r.ip, r.errCode, r.idType, r.arn, r.invokedBy, r.req))
}

func TestRulesFireOnTheirEventsOnly(t *testing.T) {
	const (
		signin = "signin.amazonaws.com"
		role   = "arn:aws:sts::111122223333:assumed-role/web/i-0abc123def4567890"
		mfaNo  = `"additionalEventData":{"MFAUsed":"No"},"responseElements":{"ConsoleLogin":"Success"},`
		mfaYes = `"additionalEventData":{"MFAUsed":"Yes"},"responseElements":{"ConsoleLogin":"Success"},`
	)
	tests := []struct {
		name string
		r    rec
		want []string
	}{
		{"sign-in token from python", rec{source: signin, name: "GetSigninToken", idType: "AssumedRole", ua: "python-requests/2.31"},
			[]string{"KW-CT-STS-SIGNIN-TOKEN"}},
		{"sign-in token from the SSO portal is quiet", rec{source: signin, name: "GetSigninToken", idType: "AssumedRole", ua: "Jersey/${project.version}"}, nil},
		{"console login without MFA", rec{source: signin, name: "ConsoleLogin", ua: "Mozilla/5.0", extra: mfaNo},
			[]string{"KW-CT-CONSOLE-NO-MFA"}},
		{"console login with MFA is quiet", rec{source: signin, name: "ConsoleLogin", ua: "Mozilla/5.0", extra: mfaYes}, nil},
		{"SSO console login without MFA is quiet", rec{source: signin, name: "ConsoleLogin", idType: "AssumedRole", extra: mfaNo}, nil},
		{"instance credentials from a public address", rec{source: "s3.amazonaws.com", name: "ListBuckets", idType: "AssumedRole", arn: role},
			[]string{"KW-CT-EC2-CREDS-OUTSIDE", "KW-CT-RECON-LIST"}},
		{"instance credentials from a private address are quiet", rec{source: "sts.amazonaws.com", name: "GetCallerIdentity",
			idType: "AssumedRole", arn: role, ip: "10.0.3.4"}, nil},
		{"instance credentials used by SSM are quiet", rec{source: "ssm.amazonaws.com", name: "UpdateInstanceInformation",
			idType: "AssumedRole", arn: role}, nil},
		{"a person's role session is quiet", rec{source: "sts.amazonaws.com", name: "GetCallerIdentity", idType: "AssumedRole",
			arn: "arn:aws:sts::111122223333:assumed-role/dev/alice"}, nil},
		{"GuardDuty detector disabled", rec{source: "guardduty.amazonaws.com", name: "UpdateDetector", req: `{"detectorId":"d","enable":false}`},
			[]string{"KW-CT-EVASION"}},
		{"GuardDuty detector enabled is quiet", rec{source: "guardduty.amazonaws.com", name: "UpdateDetector", req: `{"detectorId":"d","enable":true}`}, nil},
		{"GuardDuty detector deleted", rec{source: "guardduty.amazonaws.com", name: "DeleteDetector", req: `{"detectorId":"d"}`},
			[]string{"KW-CT-EVASION"}},
		{"config recorder stopped", rec{source: "config.amazonaws.com", name: "StopConfigurationRecorder"}, []string{"KW-CT-EVASION"}},
		{"failed StopLogging is quiet", rec{source: "cloudtrail.amazonaws.com", name: "StopLogging", errCode: "AccessDenied"}, nil},
		{"SES sending enabled", rec{source: "ses.amazonaws.com", name: "UpdateAccountSendingEnabled", req: `{"enabled":true}`},
			[]string{"KW-CT-SES-ABUSE"}},
		{"SES sending disabled is quiet", rec{source: "ses.amazonaws.com", name: "UpdateAccountSendingEnabled", req: `{"enabled":false}`}, nil},
		{"SESv2 sending attributes on", rec{source: "ses.amazonaws.com", name: "PutAccountSendingAttributes", req: `{"sendingEnabled":true}`},
			[]string{"KW-CT-SES-ABUSE"}},
		{"SES quota probed", rec{source: "ses.amazonaws.com", name: "GetSendQuota"}, []string{"KW-CT-SES-RECON"}},
		{"SES quota read by Trusted Advisor is quiet", rec{source: "ses.amazonaws.com", name: "GetSendQuota", ua: "trustedadvisor.amazonaws.com"}, nil},
		{"GPU instances", rec{source: "ec2.amazonaws.com", name: "RunInstances", req: `{"instanceType":"p4d.24xlarge","maxCount":8}`},
			[]string{"KW-CT-EC2-MINING"}},
		{"small instance is quiet", rec{source: "ec2.amazonaws.com", name: "RunInstances", req: `{"instanceType":"t3.micro","maxCount":1}`}, nil},
		{"region enabled", rec{source: "account.amazonaws.com", name: "EnableRegion", req: `{"RegionName":"ap-east-1"}`},
			[]string{"KW-CT-REGION-ENABLED"}},
		{"quarantine V3 attached", rec{source: "iam.amazonaws.com", name: "AttachUserPolicy",
			req: `{"userName":"alice","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}`},
			[]string{"KW-CT-QUARANTINE-ATTACHED"}},
		{"root activity", rec{source: "s3.amazonaws.com", name: "GetBucketAcl", idType: "Root", arn: "arn:aws:iam::111122223333:root"},
			[]string{"KW-CT-ROOT"}},
		{"leave organization attempt", rec{source: "organizations.amazonaws.com", name: "LeaveOrganization", errCode: "AccessDenied"},
			[]string{"KW-CT-EVASION"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rulesFired(t, NewEngine(), []cloudtrail.Event{tt.r.event(t)})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rules fired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRuleCatalogueIsComplete(t *testing.T) {
	seen := map[string]bool{}
	all := append(Rules(), BaselineRules()...)
	all = append(all, AccessDeniedBurst(nil).Rule, ReconBurst(nil).Rule, SecretsBurst(nil).Rule, SESVolume(nil, 1).Rule)
	for _, b := range AttackBursts(nil) {
		all = append(all, b.Rule)
	}
	for _, r := range all {
		if seen[r.ID] || r.Title == "" || r.Description == "" || r.Technique == "" || r.Remediation == "" {
			t.Errorf("rule %s: duplicate id or missing field", r.ID)
		}
		seen[r.ID] = true
	}
	for _, r := range Rules() {
		if r.Match == nil {
			t.Errorf("rule %s has no matcher", r.ID)
		}
	}
}

// FuzzEngine: hostile records never panic the catalogue.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(`{"eventName":"RunInstances","requestParameters":{"instanceType":"p3."}}`))
	f.Add([]byte(`{"eventName":"PutEventSelectors","requestParameters":{"eventSelectors":[1,{"readWriteType":3}]}}`))
	f.Add([]byte(`{"eventName":"ConsoleLogin","userIdentity":{"type":"Root"},"additionalEventData":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := cloudtrail.Decode(raw)
		if err != nil {
			return
		}
		en := NewEngine(AccessDeniedBurst(&MemStore{}), &Baseline{Store: &MemStore{}})
		_, _ = en.Observe(context.Background(), &e)
	})
}
