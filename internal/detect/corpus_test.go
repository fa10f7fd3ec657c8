package detect

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// pantherRules maps Panther rule ids whose meaning matches one of ours.
// Left out on purpose: AWS.User.Login.Profile.Modified (it ignores a
// password set with reset required; we do not: whoever set it can log in
// first), AWS.Console.RootLoginFailed and AWS.CloudTrail.RootPasswordChanged
// (KW-CT-ROOT fires on any root activity, so their negatives would
// disagree), AWS.CloudTrail.UnauthorizedAPICall (single denials; ours is a
// burst), AWS.UnusedRegion (needs an allow-list of regions; the region
// baseline covers it), and rules we have no counterpart for.
var pantherRules = map[string]string{
	"AWS.IAM.CreateUser":                            "KW-CT-IAM-CREATE-USER",
	"AWS.IAM.Backdoor.User.Keys":                    "KW-CT-IAM-CREATE-KEY-OTHER",
	"AWS.CloudTrail.LoginProfileCreatedOrModified":  "KW-CT-IAM-LOGIN-PROFILE",
	"AWS.IAM.AttachAdminRolePolicy":                 "KW-CT-IAM-ADMIN-ATTACHED",
	"AWS.STS.GetSessionToken.Misuse":                "KW-CT-STS-SESSION-FROM-KEY",
	"AWS.Console.GetSigninToken.Abuse":              "KW-CT-STS-SIGNIN-TOKEN",
	"AWS.STS.GetCallerIdentity.TruffleHog":          "KW-CT-RECON-CALLER-ID-SCANNER",
	"AWS.CloudTrail.Account.Discovery":              "KW-CT-RECON-LIST",
	"AWS.CloudTrail.Stopped":                        "KW-CT-EVASION",
	"AWS.CloudTrail.EventSelectorsDisabled":         "KW-CT-EVASION",
	"AWS.CloudTrail.SecurityConfigurationChange":    "KW-CT-EVASION",
	"AWS.CloudTrail.AttemptToLeaveOrg":              "KW-CT-EVASION",
	"AWS.ConfigService.DisabledDeleted":             "KW-CT-EVASION",
	"AWS.VPCFlow.LogsDeleted":                       "KW-CT-EVASION",
	"AWS.Macie.Evasion":                             "KW-CT-EVASION",
	"AWS.CloudTrail.SES.CheckSendQuota":             "KW-CT-SES-RECON",
	"AWS.CloudTrail.SES.ListIdentities":             "KW-CT-SES-RECON",
	"AWS.CloudTrail.SES.CheckIdentityVerifications": "KW-CT-SES-RECON",
	"AWS.CloudTrail.EnableRegion":                   "KW-CT-REGION-ENABLED",
	"AWS.Console.RootLogin":                         "KW-CT-ROOT",
	"AWS.CloudTrail.IAMCompromisedKeyQuarantine":    "KW-CT-QUARANTINE-ATTACHED",
	"AWS.IAM.AccessKeyCompromised":                  "KW-CT-QUARANTINE-ATTACHED",
}

func rulesFired(t testing.TB, en *Engine, events []cloudtrail.Event) []string {
	t.Helper()
	var out []string
	for i := range events {
		e := &events[i]
		alerts, err := en.Observe(context.Background(), e)
		if err != nil {
			t.Fatalf("observe %s: %v", e.EventName, err)
		}
		for _, a := range alerts {
			if !slices.Contains(out, a.Rule) {
				out = append(out, a.Rule)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestRulesAgreeWithPantherLabels: for every labelled event of a mapped
// rule, ours fires exactly when Panther's expects it to.
func TestRulesAgreeWithPantherLabels(t *testing.T) {
	f, err := os.Open(awstest.CorpusPath(t, "cloudtrail/panther-labeled.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	type tally struct{ agree, total int }
	per := map[string]*tally{}
	var agree, checked int
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
		e, err := cloudtrail.Decode(l.Event)
		if err != nil {
			t.Fatalf("%s %q: %v", l.Rule, l.Name, err)
		}
		if per[l.Rule] == nil {
			per[l.Rule] = &tally{}
		}
		checked++
		per[l.Rule].total++
		fired := slices.Contains(rulesFired(t, NewEngine(), []cloudtrail.Event{e}), ours)
		if fired == l.Expect {
			agree++
			per[l.Rule].agree++
			continue
		}
		t.Errorf("%s %q: expect=%v, %s fired=%v", l.Rule, l.Name, l.Expect, ours, fired)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked == 0 || len(per) != len(pantherRules) {
		t.Fatalf("%d labelled events over %d of %d mapped rules", checked, len(per), len(pantherRules))
	}
	for _, r := range slices.Sorted(func(yield func(string) bool) {
		for k := range per {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Logf("%-46s -> %-30s %d/%d", r, pantherRules[r], per[r].agree, per[r].total)
	}
	t.Logf("panther agreement: %d/%d events over %d mapped rules", agree, checked, len(pantherRules))
}

func readArray(t testing.TB, path string) []cloudtrail.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		var wrapped struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &wrapped); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		raws = wrapped.Records
	}
	var out []cloudtrail.Event
	for _, r := range raws {
		if e, err := cloudtrail.Decode(r); err == nil {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EventTime.Before(out[j].EventTime) })
	return out
}

// TestStratusTechniquesRaiseTheirFlags: each detonation log raises the
// flag its technique is about.
func TestStratusTechniquesRaiseTheirFlags(t *testing.T) {
	tests := []struct{ technique, rule string }{
		{"aws.defense-evasion.cloudtrail-delete", "KW-CT-EVASION"},
		{"aws.defense-evasion.cloudtrail-stop", "KW-CT-EVASION"},
		{"aws.defense-evasion.cloudtrail-event-selectors", "KW-CT-EVASION"},
		{"aws.defense-evasion.vpc-remove-flow-logs", "KW-CT-EVASION"},
		{"aws.defense-evasion.dns-delete-logs", "KW-CT-EVASION"},
		{"aws.defense-evasion.organizations-leave", "KW-CT-EVASION"},
		{"aws.execution.ec2-launch-unusual-instances", "KW-CT-EC2-MINING"},
		{"aws.initial-access.console-login-without-mfa", "KW-CT-CONSOLE-NO-MFA"},
		{"aws.persistence.iam-backdoor-user", "KW-CT-IAM-CREATE-KEY-OTHER"},
		{"aws.persistence.iam-create-admin-user", "KW-CT-IAM-CREATE-USER"},
		{"aws.persistence.iam-create-user-login-profile", "KW-CT-IAM-LOGIN-PROFILE"},
		{"aws.privilege-escalation.iam-update-user-login-profile", "KW-CT-IAM-LOGIN-PROFILE"},
		{"aws.persistence.sts-federation-token", "KW-CT-STS-SESSION-FROM-KEY"},
		{"aws.credential-access.ec2-steal-instance-credentials", "KW-CT-EC2-CREDS-OUTSIDE"},
	}
	for _, tt := range tests {
		t.Run(tt.technique, func(t *testing.T) {
			p := awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs/"+tt.technique+".json")
			got := rulesFired(t, NewEngine(AccessDeniedBurst(nil), ReconBurst(nil)), readArray(t, p))
			if !slices.Contains(got, tt.rule) {
				t.Errorf("fired %v; want %s among them", got, tt.rule)
			}
		})
	}
}

// TestCorpusAlertCounts logs alerts per rule over stratus and invictus (the
// sanity table of the note) and checks nothing absurd: no rule fires on
// more than a third of a dataset's events.
func TestCorpusAlertCounts(t *testing.T) {
	for _, set := range []string{"stratus-detonation-logs", "invictus-aws-dataset"} {
		t.Run(set, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(awstest.CorpusPath(t, "cloudtrail/"+set), "*.json"))
			var events []cloudtrail.Event
			for _, f := range files {
				events = append(events, readArray(t, f)...)
			}
			sort.SliceStable(events, func(i, j int) bool { return events[i].EventTime.Before(events[j].EventTime) })
			en := NewEngine(Dispatch(AttackBursts(nil)...), AccessDeniedBurst(nil), ReconBurst(nil), SESVolume(nil, 500),
				&Baseline{Learning: 0})
			counts := map[string]int{}
			for i := range events {
				alerts, err := en.Observe(context.Background(), &events[i])
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range alerts {
					counts[a.Rule]++
				}
			}
			var lines []string
			for r, n := range counts {
				lines = append(lines, r+"="+itoa(n))
				if !strings.HasPrefix(r, "KW-CT-BASELINE-") && n*3 > len(events) {
					t.Errorf("%s fired %d times over %d events", r, n, len(events))
				}
			}
			slices.Sort(lines)
			t.Logf("%s: %d events; %s", set, len(events), strings.Join(lines, " "))
		})
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestRulesReadOnlyWhatTheEngineDecodes: the engine hands resp only to
// rules marked ReadsResp, and neither req nor resp to rules without an
// Events list; over the corpus each such rule judges alike without them.
func TestRulesReadOnlyWhatTheEngineDecodes(t *testing.T) {
	var events []cloudtrail.Event
	for _, set := range []string{"stratus-detonation-logs", "invictus-aws-dataset"} {
		files, _ := filepath.Glob(filepath.Join(awstest.CorpusPath(t, "cloudtrail/"+set), "*.json"))
		for _, f := range files {
			events = append(events, readArray(t, f)...)
		}
	}
	type verdict struct {
		detail string
		ok     bool
	}
	for _, r := range Rules() {
		if r.ReadsResp {
			continue
		}
		for i := range events {
			e := &events[i]
			req, resp := Object(e.RequestParameters), Object(e.ResponseElements)
			var full, given verdict
			full.detail, full.ok = r.Match(e, req, resp)
			if r.Events == nil {
				req = nil
			}
			given.detail, given.ok = r.Match(e, req, nil)
			if full.ok != given.ok || full.ok && full.detail != given.detail {
				t.Errorf("%s on %s %s: %+v with everything decoded, %+v with what the engine decodes",
					r.ID, e.EventName, e.EventID, full, given)
			}
		}
	}
}

// TestEveryStratusMappingFiresOnItsDetonation: each Stratus technique a
// built-in rule names raises that rule over the technique's detonation
// log, wherever the corpus at hand holds one (the shared corpus holds
// more than the repository's sample).
func TestEveryStratusMappingFiresOnItsDetonation(t *testing.T) {
	dir := awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs")
	rules := append(Rules(), AccessDeniedBurst(nil).Rule, ReconBurst(nil).Rule, SecretsBurst(nil).Rule)
	for _, b := range AttackBursts(nil) {
		rules = append(rules, b.Rule)
	}
	for _, r := range rules {
		for _, id := range r.Stratus {
			t.Run(id+"/"+r.ID, func(t *testing.T) {
				p := filepath.Join(dir, id+".json")
				if _, err := os.Stat(p); err != nil {
					t.Skip("no detonation log for " + id + " in this corpus")
				}
				en := NewEngine(AccessDeniedBurst(nil), ReconBurst(nil), SecretsBurst(nil), Dispatch(AttackBursts(nil)...))
				if got := rulesFired(t, en, readArray(t, p)); !slices.Contains(got, r.ID) {
					t.Errorf("fired %v; want %s among them", got, r.ID)
				}
			})
		}
	}
}
