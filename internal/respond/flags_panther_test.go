package respond

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// pantherRules maps Panther rule ids whose meaning matches one of ours.
// Left out on purpose: AWS.User.Login.Profile.Modified (it ignores a
// password set with reset required; we do not: whoever set it can log in
// first), AWS.Console.RootLoginFailed and AWS.CloudTrail.RootPasswordChanged
// (KW-CT-ROOT fires on any root activity), AWS.CloudTrail.UnauthorizedAPICall
// (single denials; ours is a burst), and rules we have no counterpart for.
var pantherRules = map[string]string{
	"AWS.IAM.CreateUser":                            "KW-CT-IAM-CREATE-USER",
	"AWS.IAM.Backdoor.User.Keys":                    "KW-CT-IAM-CREATE-KEY-OTHER",
	"AWS.CloudTrail.LoginProfileCreatedOrModified":  "KW-CT-IAM-LOGIN-PROFILE",
	"AWS.IAM.AttachAdminRolePolicy":                 "KW-CT-IAM-ADMIN-ATTACHED",
	"AWS.STS.GetSessionToken.Misuse":                "KW-CT-STS-SESSION-FROM-KEY",
	"AWS.STS.GetCallerIdentity.TruffleHog":          "KW-CT-RECON-CALLER-ID-SCANNER",
	"AWS.CloudTrail.Account.Discovery":              "KW-CT-RECON-LIST",
	"AWS.CloudTrail.Stopped":                        "KW-CT-EVASION",
	"AWS.CloudTrail.EventSelectorsDisabled":         "KW-CT-EVASION",
	"AWS.CloudTrail.SecurityConfigurationChange":    "KW-CT-EVASION",
	"AWS.ConfigService.DisabledDeleted":             "KW-CT-EVASION",
	"AWS.VPCFlow.LogsDeleted":                       "KW-CT-EVASION",
	"AWS.Macie.Evasion":                             "KW-CT-EVASION",
	"AWS.CloudTrail.SES.CheckSendQuota":             "KW-CT-SES-RECON",
	"AWS.CloudTrail.SES.ListIdentities":             "KW-CT-SES-RECON",
	"AWS.CloudTrail.SES.CheckIdentityVerifications": "KW-CT-SES-RECON",
	"AWS.Console.RootLogin":                         "KW-CT-ROOT",
	"AWS.CloudTrail.IAMCompromisedKeyQuarantine":    "KW-CT-QUARANTINE-ATTACHED",
	"AWS.IAM.AccessKeyCompromised":                  "KW-CT-QUARANTINE-ATTACHED",
}

// TestRedFlagsAgreeWithPantherLabels: for every labelled event of a mapped
// rule, ours fires exactly when Panther's expects it to.
func TestRedFlagsAgreeWithPantherLabels(t *testing.T) {
	f, err := os.Open(awstest.CorpusPath(t, "cloudtrail/panther-labeled.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var checked, agree, pos, neg int
	for sc.Scan() {
		var l struct {
			Rule, Name string
			Expect     bool
			Event      json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("panther line: %v", err)
		}
		ours, ok := pantherRules[l.Rule]
		if !ok {
			continue
		}
		checked++
		if l.Expect {
			pos++
		} else {
			neg++
		}
		fired := slices.Contains(rulesFired(singleEvent(t, l.Event)), ours)
		if fired == l.Expect {
			agree++
			continue
		}
		t.Errorf("%s %q: expect=%v, %s fired=%v", l.Rule, l.Name, l.Expect, ours, fired)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no labelled events of mapped rules")
	}
	t.Logf("panther agreement: %d/%d events (%d positive, %d negative) over %d mapped rules",
		agree, checked, pos, neg, len(pantherRules))
}
