package rulelang

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// event decodes a CloudTrail record written as a Go map.
func event(t testing.TB, rec map[string]any) *cloudtrail.Event {
	t.Helper()
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	e, err := cloudtrail.Decode(raw)
	if err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return &e
}

func sesSend(key, ip, when string) map[string]any {
	return map[string]any{
		"eventVersion": "1.08", "eventTime": when, "eventSource": "ses.amazonaws.com",
		"eventName": "SendRawEmail", "awsRegion": "us-east-1", "sourceIPAddress": ip,
		"userAgent": "aws-cli/2.15.0 Python/3.11", "eventID": "ev-" + when + ip,
		"userIdentity": map[string]any{"type": "IAMUser", "accessKeyId": key,
			"arn": "arn:aws:iam::123456789012:user/ci"},
		"requestParameters": map[string]any{"instanceType": "p4d.24xlarge", "count": 3,
			"tags": []any{map[string]any{"key": "team", "value": "ml"}}, "dryRun": false},
		"responseElements": nil,
	}
}

func mustRules(t *testing.T, src string) []*Rule {
	t.Helper()
	rules, err := Parse("rules.yml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rules
}

func TestRuleMatchers(t *testing.T) {
	key := awstest.FakeKeyID("ci", 123456789012)
	other := awstest.FakeKeyID("other", 123456789012)
	e := event(t, sesSend(key, "10.1.2.3", "2024-05-01T10:00:00Z"))
	tests := []struct {
		name, match string
		want        bool
	}{
		{"equals holds on the exact value", `eventSource: {equals: ses.amazonaws.com}`, true},
		{"equals is case-sensitive", `eventSource: {equals: SES.amazonaws.com}`, false},
		{"a bare value means equals", `eventName: SendRawEmail`, true},
		{"in holds when any listed value is equal", `userIdentity.accessKeyId: {in: [` + other + `, ` + key + `]}`, true},
		{"in fails when none is", `userIdentity.accessKeyId: {in: [` + other + `]}`, false},
		{"prefix", `eventName: {prefix: Send}`, true},
		{"suffix", `eventName: {suffix: Email}`, true},
		{"contains", `userAgent: {contains: aws-cli}`, true},
		{"contains fails on absent text", `userAgent: {contains: terraform}`, false},
		{"regex into nested request parameters", `requestParameters.instanceType: {regex: '^p[0-9]'}`, true},
		{"numbers compare as their text", `requestParameters.count: {equals: "3"}`, true},
		{"bools compare as their text", `requestParameters.dryRun: false`, true},
		{"paths fan out over lists", `requestParameters.tags.value: ml`, true},
		{"cidr holds inside the network", `sourceIPAddress: {cidr: [192.168.0.0/16, 10.0.0.0/8]}`, true},
		{"cidr fails outside", `sourceIPAddress: {cidr: 172.16.0.0/12}`, false},
		{"exists false holds on an absent field", `errorCode: {exists: false}`, true},
		{"exists false holds on a null field", `responseElements: {exists: false}`, true},
		{"exists true fails on an absent field", `errorCode: {exists: true}`, false},
		{"not negates", `userAgent: {not: {contains: terraform}}`, true},
		{"not of a holding matcher fails", `userAgent: {not: {prefix: aws-cli}}`, false},
		{"not of a value on an absent field holds", `errorCode: {not: AccessDenied}`, true},
		{"several matchers on one field are and", `eventName: {prefix: Send, suffix: Raw}`, false},
		{"field-level any_of", `eventName: {any_of: [{equals: SendEmail}, {prefix: SendRaw}]}`, true},
		{"field-level all_of", `eventName: {all_of: [{prefix: Send}, {contains: Raw}]}`, true},
		{"fields are and", "eventSource: ses.amazonaws.com\n      eventName: CreateUser", false},
		{"block-level any_of is or", "any_of:\n        - {eventName: CreateUser}\n        - {eventName: SendRawEmail}", true},
		{"block-level all_of is and", "all_of:\n        - {eventName: SendRawEmail}\n        - {awsRegion: eu-west-1}", false},
		{"missing nested field never equals", `requestParameters.nope.deeper: x`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := mustRules(t, "rules:\n  - id: R\n    match:\n      "+tt.match+"\n")
			alerts, err := NewDetector(rules, nil).Observe(context.Background(), e)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(alerts) == 1; got != tt.want {
				t.Errorf("match %q = %v, want %v", tt.match, got, tt.want)
			}
		})
	}
}

func TestRuleAlertCarriesRuleAndEvent(t *testing.T) {
	key := awstest.FakeKeyID("ci", 123456789012)
	rules := mustRules(t, `rules:
  - id: ACME-SES
    title: SES used by the CI key
    severity: high
    technique: T1496
    description: CI never sends mail.
    match:
      eventSource: ses.amazonaws.com
`)
	alerts, err := NewDetector(rules, nil).Observe(context.Background(), event(t, sesSend(key, "10.1.2.3", "2024-05-01T10:00:00Z")))
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %v, %v", alerts, err)
	}
	a := alerts[0]
	got := []string{a.Rule, a.Title, a.Technique, a.Severity.String(), a.AccessKeyID, a.EventName, a.Details["description"].(string)}
	want := []string{"ACME-SES", "SES used by the CI key", "T1496", "high", key, "SendRawEmail", "CI never sends mail."}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("alert (-want +got):\n%s", d)
	}
}

func TestRuleValidationNamesTheLine(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown top-level key", "rulez: []\n", "rules.yml:1: unknown key \"rulez\""},
		{"unknown rule key", "rules:\n  - id: A\n    sevrity: high\n    match: {eventName: X}\n", "rules.yml:3: unknown key \"sevrity\""},
		{"unknown matcher", "rules:\n  - id: A\n    match:\n      eventName: {startswith: X}\n", "rules.yml:4: eventName: unknown matcher \"startswith\""},
		{"bad regex is refused at load", "rules:\n  - id: A\n    match:\n      eventName:\n        regex: '('\n", "rules.yml:5: eventName.regex: error parsing regexp"},
		{"bad cidr", "rules:\n  - id: A\n    match:\n      sourceIPAddress: {cidr: [10.0.0.0/99]}\n", "rules.yml:4: sourceIPAddress.cidr: \"10.0.0.0/99\""},
		{"bad severity", "rules:\n  - id: A\n    severity: urgent\n    match: {eventName: X}\n", "rules.yml:3: severity: unknown severity"},
		{"missing id", "rules:\n  - match: {eventName: X}\n", "rules.yml:2: rule without id"},
		{"missing match", "rules:\n  - id: A\n", "rules.yml:2: rule A: no match block"},
		{"duplicate id", "rules:\n  - id: A\n    match: {eventName: X}\n  - id: A\n    match: {eventName: Y}\n", "rules.yml:4: rule A: id already used at line 2"},
		{"exists wants a bool", "rules:\n  - id: A\n    match:\n      errorCode: {exists: maybe}\n", "rules.yml:4: errorCode.exists: want true or false"},
		{"threshold without window", "rules:\n  - id: A\n    match: {eventName: X}\n    threshold:\n      count: 3\n", "rules.yml:5: threshold: want a window"},
		{"threshold count and distinct", "rules:\n  - id: A\n    match: {eventName: X}\n    threshold:\n      count: 3\n      distinct: {field: a, count: 2}\n      window: 1h\n", "rules.yml:6: threshold: count and distinct are exclusive"},
		{"bad window", "rules:\n  - id: A\n    match: {eventName: X}\n    threshold: {count: 2, window: soon}\n", "rules.yml:4: window: want a positive duration"},
		{"empty path segment", "rules:\n  - id: A\n    match:\n      userIdentity..type: X\n", "rules.yml:4: field \"userIdentity..type\": empty path segment"},
		{"not a yaml mapping", "- a\n- b\n", "rules.yml:1: want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("rules.yml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRuleWindowsAcceptDays(t *testing.T) {
	rules := mustRules(t, "rules:\n  - id: A\n    match: {eventName: X}\n    threshold: {count: 2, window: 7d, by: userIdentity.accessKeyId}\n")
	want := &Threshold{Count: 2, Window: 7 * 24 * time.Hour, By: "userIdentity.accessKeyId"}
	if d := cmp.Diff(want, rules[0].Threshold); d != "" {
		t.Errorf("threshold (-want +got):\n%s", d)
	}
}
