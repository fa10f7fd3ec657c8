package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// alertRules runs `keywarden watch ARGS --sink jsonl` and returns the rules
// of the alerts, and the exit status.
func alertRules(t *testing.T, stdin string, args ...string) ([]map[string]any, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(append([]string{"watch", "--sink", "jsonl"}, args...),
		Deps{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr})
	if code == ExitError {
		t.Fatalf("watch %v: exit 2\n%s", args, stderr.String())
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("not an alert line: %v\n%s", err, line)
		}
		out = append(out, a)
	}
	return out, code
}

func ruleSet(alerts []map[string]any) map[string]int {
	out := map[string]int{}
	for _, a := range alerts {
		out[a["rule"].(string)]++
	}
	return out
}

func TestWatchStratusDetonations(t *testing.T) {
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	alerts, code := alertRules(t, "", awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs"))
	if code != ExitFindings {
		t.Errorf("critical alerts: want exit 1, got %d", code)
	}
	got := ruleSet(alerts)
	for _, want := range []string{"KW-CT-EVASION", "KW-CT-IAM-CREATE-USER", "KW-CT-IAM-ADMIN-ATTACHED",
		"KW-CT-EC2-CREDS-OUTSIDE", "KW-CT-CONSOLE-NO-MFA", "KW-CT-ACCESS-DENIED-BURST"} {
		if got[want] == 0 {
			t.Errorf("no %s alert; got %v", want, got)
		}
	}
	// The alert JSON of docs/formats.md, field by field.
	for _, k := range []string{"rule", "severity", "title", "technique", "event_id", "event_time", "event_source",
		"event_name", "account_id", "region", "access_key_id", "principal", "source_ip", "user_agent", "details"} {
		if _, ok := alerts[0][k]; !ok {
			t.Errorf("alert lacks %q: %v", k, alerts[0])
		}
	}
}

// logFile writes records as a CloudTrail log file.
func logFile(t *testing.T, path string, records ...map[string]any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func createUserRecord(id, key, user string, at time.Time) map[string]any {
	return map[string]any{"eventID": id, "eventTime": at.UTC().Format(time.RFC3339), "eventSource": "iam.amazonaws.com",
		"eventName": "CreateUser", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2",
		"userIdentity": map[string]any{"type": "IAMUser", "accessKeyId": key, "userName": "deploy", "accountId": "123456789012",
			"arn": "arn:aws:iam::123456789012:user/deploy"},
		"requestParameters": map[string]any{"userName": user}, "recipientAccountId": "123456789012"}
}

func TestWatchResumeNeitherSkipsNorRepeats(t *testing.T) {
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	dir := t.TempDir()
	key := awstest.FakeKeyID("watched", 123456789012)
	now := time.Now().UTC().Add(-time.Hour)
	logFile(t, filepath.Join(dir, "a.json"), createUserRecord("e1", key, "u1", now), createUserRecord("e2", key, "u2", now.Add(time.Minute)))
	first, _ := alertRules(t, "", dir, "--resume")
	if len(first) != 2 {
		t.Fatalf("first run: want 2 alerts, got %v", ruleSet(first))
	}
	// A late file with one new event, and one already judged.
	logFile(t, filepath.Join(dir, "b.json"), createUserRecord("e3", key, "u3", now.Add(30*time.Second)), createUserRecord("e2", key, "u2", now.Add(time.Minute)))
	second, _ := alertRules(t, "", dir, "--resume")
	if len(second) != 1 || second[0]["event_id"] != "e3" {
		t.Fatalf("second run: want only e3, got %v", second)
	}
	third, code := alertRules(t, "", dir, "--resume")
	if len(third) != 0 || code != ExitOK {
		t.Errorf("third run: want nothing and exit 0, got %v (exit %d)", third, code)
	}
	// A plain run remembers nothing: it judges everything again.
	plain, _ := alertRules(t, "", dir)
	if len(plain) != 3 {
		t.Errorf("a plain run: want all 3 alerts, got %d", len(plain))
	}
}

func TestWatchUserAndSigmaRulesFromStdin(t *testing.T) {
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	dir := t.TempDir()
	yamlRule := "rules:\n  - id: ACME-NEW-USER-U9\n    title: user u9 created\n    severity: low\n    match:\n      eventName: {equals: CreateUser}\n      requestParameters.userName: {prefix: u9}\n"
	sigmaRule := "title: IAM user creation\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\nlevel: medium\n" +
		"tags: [attack.persistence, attack.t1136.003]\nlogsource: {product: aws, service: cloudtrail}\n" +
		"detection:\n  sel:\n    eventSource: iam.amazonaws.com\n    eventName: CreateUser\n  condition: sel\n"
	if err := os.WriteFile(filepath.Join(dir, "team.yaml"), []byte(yamlRule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sigma.yml"), []byte(sigmaRule), 0o644); err != nil {
		t.Fatal(err)
	}
	key := awstest.FakeKeyID("stdin", 123456789012)
	var lines []string
	for i, u := range []string{"u1", "u9x"} {
		b, _ := json.Marshal(createUserRecord("s"+u, key, u, time.Now().Add(time.Duration(i)*time.Minute)))
		lines = append(lines, string(b))
	}
	alerts, _ := alertRules(t, strings.Join(lines, "\n"), "-", "--rules", filepath.Join(dir, "team.yaml"), "--sigma", filepath.Join(dir, "sigma.yml"))
	got := ruleSet(alerts)
	// The built-in rule says which user was created: two alerts. The Sigma
	// rule says nothing more than the call: deduped to one per --dedup window.
	if got["ACME-NEW-USER-U9"] != 1 || got["SIGMA-11111111-2222-3333-4444-555555555555"] != 1 || got["KW-CT-IAM-CREATE-USER"] != 2 {
		t.Errorf("want the YAML rule once (u9x), the Sigma rule once and the built-in twice; got %v", got)
	}
}

func TestWatchRespondContainsTheKey(t *testing.T) {
	e := newRotateEnv(t) // moto user deploy with a key
	dir := t.TempDir()
	logFile(t, filepath.Join(dir, "trail.json"), createUserRecord("c1", e.key.KeyID, "backdoor", time.Now().Add(-time.Minute)))
	os.Setenv("AWS_ACCESS_KEY_ID", "testing") // the responder: moto's admin
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"watch", dir, "--respond", "KW-CT-IAM-CREATE-USER=contain"}, Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	if code != ExitFindings || !strings.Contains(stderr.String(), "contained "+e.key.KeyID) {
		t.Fatalf("want the alert (exit 1) and the key contained:\nexit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if got := e.keys(); got[e.key.KeyID] {
		t.Errorf("the key is still active: %v", got)
	}
}

func TestWatchSESVolumeSpike(t *testing.T) {
	newRotateEnv(t)
	os.Setenv("AWS_ACCESS_KEY_ID", "testing")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	empty := t.TempDir() // a trail with no events: only SES's statistics can raise
	if err := os.WriteFile(filepath.Join(empty, "trail.json"), []byte(`{"Records":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Below the floor: nothing.
	alerts, _ := alertRules(t, "", empty, "--ses-volume", "20", "--regions", "us-east-1")
	if len(alerts) != 0 {
		t.Fatalf("no mail sent: want no alert, got %v", alerts)
	}
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := ses.NewFromConfig(cfg)
	if _, err := client.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("spam@example.com")}); err != nil {
		t.Fatal(err)
	}
	for range 25 {
		_, err := client.SendEmail(ctx, &ses.SendEmailInput{Source: aws.String("spam@example.com"),
			Destination: &sestypes.Destination{ToAddresses: []string{"v@example.org"}},
			Message: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("hi")},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("buy")}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	alerts, code := alertRules(t, "", empty, "--ses-volume", "20", "--regions", "us-east-1")
	if len(alerts) != 1 || alerts[0]["rule"] != "KW-SES-VOLUME-SPIKE" || code != ExitFindings {
		t.Errorf("25 mails over a floor of 20 with no history: want one spike alert, exit 1; got %v, %d", alerts, code)
	}
}

func TestWatchLookupSource(t *testing.T) {
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	key := awstest.FakeKeyID("lookup", 123456789012)
	rec, _ := json.Marshal(createUserRecord("l1", key, "intruder", time.Now().Add(-10*time.Minute)))
	ct := awstest.NewCloudTrailServer(t, []awstest.CloudTrailEventFixture{{Record: rec, Region: "us-east-1"}})
	ct.SetEnvAlone(t)
	alerts, code := alertRules(t, "", "lookup:us-east-1")
	if len(alerts) != 1 || alerts[0]["rule"] != "KW-CT-IAM-CREATE-USER" || code != ExitFindings {
		t.Errorf("want the CreateUser alert (high, the default --fail-on) from LookupEvents, exit 1; got exit %d: %v", code, alerts)
	}
	reqs := ct.Requests()
	if len(reqs) == 0 || len(reqs[0].Attributes) != 0 {
		t.Errorf("want LookupEvents without lookup attributes (every event): %+v", reqs)
	}
}

// watchCLI runs `keywarden watch ARGS` with a state database of its own.
func watchCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	var out, errOut bytes.Buffer
	code = Main(append([]string{"watch"}, args...), Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), code
}

// TestWatchFormatJSONLIsTheJSONLSink: --format jsonl prints on stdout what
// --sink jsonl does, byte for byte; --format json the same alerts as one array.
func TestWatchFormatJSONLIsTheJSONLSink(t *testing.T) {
	logs := awstest.CorpusPath(t, "cloudtrail/stratus-detonation-logs")
	sink, _, code := watchCLI(t, "--sink", "jsonl", logs)
	format, stderr, fcode := watchCLI(t, "--format", "jsonl", logs)
	if sink == "" || format != sink || fcode != code {
		t.Fatalf("--format jsonl (exit %d) differs from --sink jsonl (exit %d):\n%s\n%s", fcode, code, format, stderr)
	}
	array, _, acode := watchCLI(t, "--format", "json", logs)
	var alerts []json.RawMessage
	if err := json.Unmarshal([]byte(array), &alerts); err != nil || acode != code {
		t.Fatalf("--format json: not one array (%v), exit %d:\n%s", err, acode, array)
	}
	lines := strings.Split(strings.TrimSpace(sink), "\n")
	if len(alerts) != len(lines) {
		t.Fatalf("--format json has %d alerts, jsonl %d", len(alerts), len(lines))
	}
	for i, a := range alerts {
		var compact bytes.Buffer
		if err := json.Compact(&compact, a); err != nil || compact.String() != lines[i] {
			t.Errorf("alert %d: json %s, jsonl %s", i, compact.String(), lines[i])
			break
		}
	}
	// Text, the default, is the text sink's.
	text, _, _ := watchCLI(t, logs)
	textSink, _, _ := watchCLI(t, "--sink", "text", logs)
	if text == "" || text != textSink || strings.HasPrefix(text, "{") {
		t.Errorf("the default output is not the text sink's:\n%s", text)
	}
}

func TestWatchFormatIsCheckedBeforeAnythingRuns(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing may be asked of AWS
	tests := map[string]struct {
		args []string
		err  string
	}{
		"an unknown format": {[]string{"--format", "yaml", "s3://trail/"},
			`keywarden: --format "yaml": want one of text, json, jsonl`},
		"an unknown format with --list-rules": {[]string{"--list-rules", "--format", "xml"},
			`keywarden: --format "xml": want one of text, json, jsonl`},
		"json with --follow": {[]string{"--format", "json", "--follow", "lookup:"},
			"keywarden: --format json writes one array when the run ends, and --follow does not end: use --format jsonl"},
		"two printers": {[]string{"--format", "jsonl", "--sink", "text", "lookup:"},
			"keywarden: --format and --sink text or jsonl both print alerts on stdout: give one"},
		"a bad --respond": {[]string{"--respond", "KW-CT-ROOT", "lookup:"},
			`keywarden: --respond "KW-CT-ROOT": want RULE=contain`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := watchCLI(t, tc.args...)
			if code != ExitError || stdout != "" || strings.Split(stderr, "\n")[0] != tc.err {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", code, stdout, stderr, tc.err)
			}
		})
	}
}

func TestWatchListRulesFormats(t *testing.T) {
	text, _, _ := watchCLI(t, "--list-rules")
	if !strings.HasPrefix(text, "RULE ") || !strings.Contains(text, "KW-CT-RECON-BURST") {
		t.Errorf("--list-rules:\n%s", text)
	}
	array, _, _ := watchCLI(t, "--list-rules", "--format", "json")
	var rules []map[string]any
	if err := json.Unmarshal([]byte(array), &rules); err != nil || len(rules) != strings.Count(text, "\n")-1 {
		t.Fatalf("--list-rules --format json: %v, %d rules for %d lines", err, len(rules), strings.Count(text, "\n")-1)
	}
	if r := rules[0]; r["rule"] == nil || r["severity"] == nil || r["title"] == nil {
		t.Errorf("first rule %v: want rule, severity, technique, title", r)
	}
	lines, _, _ := watchCLI(t, "--list-rules", "--format", "jsonl")
	if n := strings.Count(lines, "\n"); n != len(rules) {
		t.Errorf("--format jsonl: %d lines for %d rules", n, len(rules))
	}
}
