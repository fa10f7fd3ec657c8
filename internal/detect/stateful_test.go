package detect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

var t0 = time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)

// call is a record by key at t0+at with the given name, error, address,
// region, service and agent.
func call(t testing.TB, key string, at time.Duration, name, errCode, ip, region, source, ua string) cloudtrail.Event {
	return ev(t, fmt.Sprintf(`{"eventID":"e","eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":%q,
		"sourceIPAddress":%q,"userAgent":%q,"errorCode":%q,"userIdentity":{"type":"IAMUser","accessKeyId":%q,
		"arn":"arn:aws:iam::111122223333:user/alice"}}`,
		t0.Add(at).Format(time.RFC3339), source, name, region, ip, ua, errCode, key))
}

func observeAll(t *testing.T, d Detector, events []cloudtrail.Event) []string {
	t.Helper()
	var out []string
	for i := range events {
		as, err := d.Observe(context.Background(), &events[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			out = append(out, a.Rule+" "+a.AccessKeyID)
		}
	}
	return out
}

func TestBurstsCountPerKeyWithinTheWindow(t *testing.T) {
	denials := func(key string, n int, gap time.Duration) []cloudtrail.Event {
		var out []cloudtrail.Event
		for i := range n {
			out = append(out, call(t, key, time.Duration(i)*gap, "ListUsers", "AccessDenied", "203.0.113.7", "us-east-1", "iam.amazonaws.com", "aws-cli/2"))
		}
		return out
	}
	const k1, k2 = "AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"
	tests := []struct {
		name   string
		events []cloudtrail.Event
		want   []string
	}{
		{"ten denials in ten minutes", denials(k1, 10, time.Minute), []string{"KW-CT-ACCESS-DENIED-BURST " + k1}},
		{"nine denials are not a burst", denials(k1, 9, time.Second), nil},
		{"ten denials over an hour are not a burst", denials(k1, 10, 6*time.Minute), nil},
		{"twenty quick denials are two bursts", denials(k1, 20, time.Second),
			[]string{"KW-CT-ACCESS-DENIED-BURST " + k1, "KW-CT-ACCESS-DENIED-BURST " + k1}},
		{"denials of two keys do not add up", append(denials(k1, 5, time.Second), denials(k2, 5, time.Second)...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := observeAll(t, AccessDeniedBurst(&MemStore{}), tt.events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBurstStateSurvivesARestart(t *testing.T) {
	store := &MemStore{}
	first := AccessDeniedBurst(store)
	for i := range 6 {
		observeAll(t, first, []cloudtrail.Event{call(t, "AKIAIOSFODNN7EXAMPLE", time.Duration(i)*time.Second,
			"ListUsers", "AccessDenied", "203.0.113.7", "us-east-1", "iam.amazonaws.com", "aws-cli/2")})
	}
	if err := first.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	second := AccessDeniedBurst(store)
	var got []string
	for i := 6; i < 10; i++ {
		got = append(got, observeAll(t, second, []cloudtrail.Event{call(t, "AKIAIOSFODNN7EXAMPLE", time.Duration(i)*time.Second,
			"ListUsers", "AccessDenied", "203.0.113.7", "us-east-1", "iam.amazonaws.com", "aws-cli/2")})...)
	}
	if len(got) != 1 {
		t.Errorf("after a restart, 6+4 denials raised %v; want one burst", got)
	}
}

func TestDistinctCountCountsValuesNotCalls(t *testing.T) {
	b := &Burst{Rule: Rule{ID: "T"}, Filter: func(*cloudtrail.Event) bool { return true },
		Distinct: func(e *cloudtrail.Event) string { return e.EventName }, Count: 3, Window: time.Hour}
	same := []cloudtrail.Event{}
	for i := range 5 {
		same = append(same, call(t, "AKIAIOSFODNN7EXAMPLE", time.Duration(i)*time.Second, "ListUsers", "", "203.0.113.7", "us-east-1", "iam.amazonaws.com", "x"))
	}
	if got := observeAll(t, b, same); got != nil {
		t.Errorf("five calls of one name raised %v", got)
	}
	got := observeAll(t, b, []cloudtrail.Event{
		call(t, "AKIAIOSFODNN7EXAMPLE", 10*time.Second, "ListRoles", "", "203.0.113.7", "us-east-1", "iam.amazonaws.com", "x"),
		call(t, "AKIAIOSFODNN7EXAMPLE", 11*time.Second, "ListGroups", "", "203.0.113.7", "us-east-1", "iam.amazonaws.com", "x"),
	})
	if len(got) != 1 {
		t.Errorf("three distinct names raised %v; want one alert", got)
	}
}

func TestSESVolumeAlertsAboveTheHourlyLimit(t *testing.T) {
	var sends []cloudtrail.Event
	for i := range 6 {
		sends = append(sends, call(t, "AKIAIOSFODNN7EXAMPLE", time.Duration(i)*time.Minute, "SendEmail", "", "203.0.113.7", "us-east-1", "ses.amazonaws.com", "boto3"))
	}
	if got := observeAll(t, SESVolume(nil, 5), sends[:5]); got != nil {
		t.Errorf("5 mails at a limit of 5 raised %v", got)
	}
	if got := observeAll(t, SESVolume(nil, 5), sends); len(got) != 1 {
		t.Errorf("6 mails at a limit of 5 raised %v; want one alert", got)
	}
}

func TestBaselineAlertsOnNewValuesOnlyAfterLearning(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLE"
	day := 24 * time.Hour
	learn := []cloudtrail.Event{
		call(t, key, 0, "ListBuckets", "", "198.51.100.10", "eu-west-1", "s3.amazonaws.com", "aws-cli/2.15 Python/3.11"),
		// new network, region, service and agent during learning: silent
		call(t, key, 3*day, "DescribeInstances", "", "192.0.2.50", "us-east-1", "ec2.amazonaws.com", "Boto3/1.34 botocore/1.34"),
	}
	tests := []struct {
		name string
		e    cloudtrail.Event
		want []string
	}{
		{"same /24, known agent family, region and service", call(t, key, 8*day, "ListBuckets", "", "198.51.100.200", "eu-west-1", "s3.amazonaws.com", "aws-cli/2.17 Python/3.12"), nil},
		{"new /24 after learning", call(t, key, 8*day, "ListBuckets", "", "198.51.101.1", "eu-west-1", "s3.amazonaws.com", "aws-cli/2.15"),
			[]string{"KW-CT-BASELINE-NETWORK " + key}},
		{"new region and service", call(t, key, 8*day, "ListUsers", "", "198.51.100.10", "ap-east-1", "iam.amazonaws.com", "aws-cli/2.15"),
			[]string{"KW-CT-BASELINE-REGION " + key, "KW-CT-BASELINE-SERVICE " + key}},
		{"new agent family", call(t, key, 8*day, "ListBuckets", "", "198.51.100.10", "eu-west-1", "s3.amazonaws.com", "TruffleHog"),
			[]string{"KW-CT-BASELINE-USER-AGENT " + key}},
		{"new value on day 6 is still learning", call(t, key, 6*day, "ListUsers", "", "203.0.113.9", "ap-east-1", "iam.amazonaws.com", "curl/8"), nil},
		{"calls by AWS on the key's behalf are ignored", ev(t, fmt.Sprintf(`{"eventTime":%q,"eventSource":"kms.amazonaws.com",
			"eventName":"Decrypt","sourceIPAddress":"s3.amazonaws.com","awsRegion":"sa-east-1","userIdentity":{"type":"IAMUser",
			"accessKeyId":%q,"invokedBy":"s3.amazonaws.com"}}`, t0.Add(8*day).Format(time.RFC3339), key)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Baseline{Store: &MemStore{}}
			if got := observeAll(t, b, learn); got != nil {
				t.Fatalf("learning period raised %v", got)
			}
			if diff := cmp.Diff(tt.want, observeAll(t, b, []cloudtrail.Event{tt.e})); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBaselineIsPersistedAndAlertsOnce(t *testing.T) {
	const key = "AKIAIOSFODNN7EXAMPLE"
	store := &MemStore{}
	b := &Baseline{Store: store, Learning: time.Hour}
	observeAll(t, b, []cloudtrail.Event{call(t, key, 0, "ListBuckets", "", "198.51.100.10", "eu-west-1", "s3.amazonaws.com", "aws-cli/2")})
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := &Baseline{Store: store, Learning: time.Hour}
	newNet := call(t, key, 2*time.Hour, "ListBuckets", "", "2001:db8:1234:5678::1", "eu-west-1", "s3.amazonaws.com", "aws-cli/2")
	if got := observeAll(t, again, []cloudtrail.Event{newNet, newNet}); !cmp.Equal(got, []string{"KW-CT-BASELINE-NETWORK " + key}) {
		t.Errorf("a new /48 seen twice after a restart raised %v; want one network alert", got)
	}
}

// TestBaselineJudgesEachKeyOnItsOwn: a network is news to a key that never
// used it, however often other keys or the key's own earlier calls did.
func TestBaselineJudgesEachKeyOnItsOwn(t *testing.T) {
	const alice, bob = "AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"
	at := func(key string, minute int, ip string) cloudtrail.Event {
		return call(t, key, time.Duration(minute)*time.Minute, "ListBuckets", "", ip, "eu-west-1", "s3.amazonaws.com", "aws-cli/2")
	}
	b := &Baseline{Learning: time.Minute}
	got := observeAll(t, b, []cloudtrail.Event{
		at(bob, 0, "192.0.2.1"), at(alice, 0, "198.51.100.1"),
		at(alice, 2, "203.0.113.1"), at(alice, 3, "198.51.100.2"), at(alice, 4, "203.0.113.2"), // back and forth: one alert
		at(bob, 5, "203.0.113.2"), // alice's last address, new to bob
	})
	want := []string{"KW-CT-BASELINE-NETWORK " + alice, "KW-CT-BASELINE-NETWORK " + bob}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

// TestFamilyCacheAgreesWithAgentFamily, also past the point where it
// starts afresh.
func TestFamilyCacheAgreesWithAgentFamily(t *testing.T) {
	agents := []string{"aws-cli/2.15.0 Python/3.11.6", "AWS-CLI/2.15.0", "Boto3/1.34 Botocore/1.34", "Mozilla/5.0 (X11)",
		"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]", "AWS Internal", "\u212Aeyhacks TruffleHog/3.0", "Ärger-Tool/1.0", ""}
	var c familyCache
	for i := range 10000 {
		ua := agents[i%len(agents)]
		if i%2 == 1 {
			ua = fmt.Sprintf("Tool-%d/1.0", i)
		}
		if got, want := c.family(ua), AgentFamily(ua); got != want {
			t.Fatalf("call %d: family(%q) = %q; AgentFamily says %q", i, ua, got, want)
		}
	}
	if len(c) > 4097 {
		t.Errorf("cache holds %d agents", len(c))
	}
}

func TestNetworkAndAgentFamily(t *testing.T) {
	nets := map[string]string{"198.51.100.77": "198.51.100.0/24", "2001:db8:1:2:3::9": "2001:db8:1::/48",
		"::ffff:192.0.2.1": "192.0.2.0/24", "AWS Internal": "", "s3.amazonaws.com": ""}
	for ip, want := range nets {
		if got := Network(ip); got != want {
			t.Errorf("Network(%q) = %q; want %q", ip, got, want)
		}
	}
	agents := map[string]string{"aws-cli/2.15.0 Python/3.11.6 Linux/6.1": "aws-cli", "Boto3/1.34.1 md/Botocore#1.34.1": "boto3",
		"aws-sdk-go-v2/1.24.0 os/linux": "go-sdk", "APN/1.0 HashiCorp/1.0 Terraform/1.6.0 aws-sdk-go-v2/1.24": "terraform",
		"AWS Internal": "console", "Mozilla/5.0 (X11)": "browser", "weird-tool/1.0": "other:weird-tool", "": ""}
	for ua, want := range agents {
		if got := AgentFamily(ua); got != want {
			t.Errorf("AgentFamily(%q) = %q; want %q", ua, got, want)
		}
	}
}

// TestSecretsBurstCountsDifferentSecrets: five different secrets read in
// ten minutes alert; an application rereading its one secret does not,
// nor do SSM reads without decryption.
func TestSecretsBurstCountsDifferentSecrets(t *testing.T) {
	read := func(at time.Duration, name, req string) cloudtrail.Event {
		src := "secretsmanager.amazonaws.com"
		if name != "GetSecretValue" {
			src = "ssm.amazonaws.com"
		}
		return ev(t, fmt.Sprintf(`{"eventID":"e","eventTime":%q,"eventSource":%q,"eventName":%q,
			"userIdentity":{"type":"IAMUser","accessKeyId":"AKIAIOSFODNN7EXAMPLE"},"requestParameters":%s}`,
			t0.Add(at).Format(time.RFC3339), src, name, req))
	}
	var thief, app, plain []cloudtrail.Event
	for i := range 5 {
		at := time.Duration(i) * time.Minute
		thief = append(thief, read(at, "GetSecretValue", fmt.Sprintf(`{"secretId":"s%d"}`, i)))
		app = append(app, read(at, "GetSecretValue", `{"secretId":"db"}`))
		plain = append(plain, read(at, "GetParameters", fmt.Sprintf(`{"names":["p%d"]}`, i)))
	}
	decrypted := append(thief[:4:4], read(5*time.Minute, "GetParameters", `{"names":["p"],"withDecryption":true}`))
	for name, tt := range map[string]struct {
		events []cloudtrail.Event
		want   []string
	}{
		"five secrets":                    {thief, []string{"KW-CT-SECRETS-BURST AKIAIOSFODNN7EXAMPLE"}},
		"one secret five times":           {app, nil},
		"parameters without decryption":   {plain, nil},
		"four secrets and a SecureString": {decrypted, []string{"KW-CT-SECRETS-BURST AKIAIOSFODNN7EXAMPLE"}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, observeAll(t, SecretsBurst(&MemStore{}), tt.events)); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
		})
	}
}
