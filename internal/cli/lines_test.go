package cli

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/canary"
)

// badInput is one usual mistake: the command line, the exit status it gets
// (-1: another helper's verb decides) and the one error line, as a regexp.
type badInput struct {
	args []string
	exit int
	line string
}

// linesEnv is a home with nothing in it: no AWS variables, empty shared
// files, no instance metadata, a state database and a store of its own.
func linesEnv(t *testing.T) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "KEYWARDEN_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("KEYWARDEN_STATE", filepath.Join(home, "state.db"))
	t.Setenv("KEYWARDEN_VAULT", filepath.Join(home, "vault.age"))
	t.Setenv("KEYWARDEN_VAULT_BACKEND", "file")
	t.Setenv("KEYWARDEN_VAULT_SCRYPT_LOGN", "10")
	t.Setenv("KEYWARDEN_PASSPHRASE", "correct horse battery staple")
	return home
}

// sdkNoise is what the SDK's own layers say, which no error line should.
var sdkNoise = regexp.MustCompile(`operation error |https response error|failed to refresh cached credentials|EC2 IMDS|exceeded maximum number of attempts|RequestID:`)

// checkLines runs each input and checks its outcome: the exit status, one
// "keywarden:" line matching, nothing of the SDK's layers, and no phrase
// said twice on any line of stderr.
func checkLines(t *testing.T, inputs []badInput) {
	t.Helper()
	for _, in := range inputs {
		stdout, stderr, code := runMain(t, in.args...)
		name := strings.Join(in.args, " ")
		if in.exit >= 0 && code != in.exit {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", name, code, in.exit, stderr)
		}
		var errLines []string
		for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if strings.HasPrefix(l, "keywarden: ") {
				errLines = append(errLines, l)
			}
			if p := repeated(l); p != "" {
				t.Errorf("%s: says %q twice: %s", name, p, l)
			}
			if sdkNoise.MatchString(l) {
				t.Errorf("%s: the SDK's layers show: %s", name, l)
			}
		}
		if in.line == "" {
			continue
		}
		if len(errLines) != 1 || !regexp.MustCompile(in.line).MatchString(errLines[0]) {
			t.Errorf("%s: error lines %q, want one matching %s (stdout %q)", name, errLines, in.line, stdout)
		}
	}
}

// tokenRE splits a line into words; a path or a URL's host stays one.
var tokenRE = regexp.MustCompile(`[A-Za-z0-9_./~-]+`)

// quoted is text in single quotes: a command to run, which may well repeat
// what the line says ('keywarden creds import --profile p').
var quoted = regexp.MustCompile(`'[^']*'`)

// repeated returns a phrase line says twice, or "": a word right after
// itself ("exec: exec:"), two words in a row twice ("read baseline: read
// baseline"), or a long token twice (a key id, a path, an operation name).
// Numbers (ports, times) do not count; case does ("A-Z, a-z").
func repeated(line string) string {
	n := 0
	line = quoted.ReplaceAllStringFunc(line, func(string) string { n++; return fmt.Sprintf("quoted%d", n) })
	var words []string
	for _, w := range tokenRE.FindAllString(line, -1) {
		if w = strings.Trim(w, ".-"); strings.Trim(w, "0123456789.") != "" {
			words = append(words, w)
		}
	}
	seen := map[string]bool{}
	for i, w := range words {
		if i > 0 && w == words[i-1] {
			return w
		}
		if len(w) >= 16 {
			if seen[w] {
				return w
			}
			seen[w] = true
		}
		if i+1 < len(words) {
			pair := w + " " + words[i+1]
			if seen[pair] {
				return pair
			}
			seen[pair] = true
		}
	}
	return ""
}

func TestRepeatedFindsDoubledPhrases(t *testing.T) {
	for line, want := range map[string]string{
		"keywarden: read baseline: read baseline x.json: bad":                                                   "read baseline",
		`keywarden: exec: exec: "ls": not found`:                                                                "exec",
		"keywarden: audit: audit: read account":                                                                 "audit",
		"keywarden: iam:GenerateCredentialReport: operation error IAM: GenerateCredentialReport":                "GenerateCredentialReport",
		"keywarden: read allowlist /home/u/app/.keywarden.toml: open /home/u/app/.keywarden.toml: no such file": "/home/u/app/.keywarden.toml",
		"hint: run 'aws configure' (or 'aws configure sso')":                                                    "",
		`keywarden: --at "25:00": want a time of day HH:MM, 00:00 to 23:59`:                                     "",
		`keywarden: --format "yaml": want one of text, json`:                                                    "",
		"keywarden: no AWS credentials found: looked in the environment (AWS_ACCESS_KEY_ID), profile \"default\" " +
			"(keys, SSO, credential_process) in ~/.aws/credentials and ~/.aws/config, and the EC2 instance metadata service": "",
	} {
		if got := repeated(line); got != want {
			t.Errorf("repeated(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestNoCredentialsIsOneLine: with nothing to sign with, every verb that
// calls AWS says where the SDK looked, in one line, with a hint.
func TestNoCredentialsIsOneLine(t *testing.T) {
	linesEnv(t)
	const noCreds = `no AWS credentials found: looked in the environment \(AWS_ACCESS_KEY_ID\), profile "default" .* in ~/\.aws/credentials and ~/\.aws/config, and the EC2 instance metadata service \(turned off by AWS_EC2_METADATA_DISABLED\)`
	key := awstest.FakeKeyID("lines", 123456789012)
	checkLines(t, []badInput{
		{[]string{"audit"}, ExitError, `^keywarden: .*` + noCreds + `$`},
		{[]string{"audit", "keys"}, ExitError, `^keywarden: .*` + noCreds + `$`},
		{[]string{"drill", "plan"}, ExitError, `^keywarden: .*` + noCreds + `$`},
		{[]string{"retire", "plan", "--all", "lookup:us-east-1"}, ExitError, `^keywarden: .*` + noCreds + `$`},
		{[]string{"respond", key, "--no-lookup"}, ExitError, `^keywarden: .*` + noCreds + `$`},
		{[]string{"respond", "undo", "inc-1"}, ExitError, ``},
		{[]string{"watch", "lookup:us-east-1"}, ExitError, `^keywarden: watch lookup:us-east-1: cloudtrail lookup in us-east-1: ` + noCreds + `$`},
		{[]string{"audit", "--profile", "nope"}, ExitError, `^keywarden: .*profile "nope" is not in ~/\.aws/credentials or ~/\.aws/config$`},
	})
	saveCanary(t, canary.Canary{Name: "lines", Account: "123456789012", User: "svc-lines", AccessKeyID: key})
	checkLines(t, []badInput{
		{[]string{"canary", "check"}, ExitError, `^keywarden: canary check: 1 canary key, none could be read: iam:GetAccessKeyLastUsed ` + key + `: ` + noCreds + `$`},
	})
	_, stderr, _ := runMain(t, "audit")
	if !strings.Contains(stderr, "\nhint: set up credentials with 'aws configure'") {
		t.Errorf("no hint:\n%s", stderr)
	}
	t.Setenv("AWS_PROFILE", "nope")
	checkLines(t, []badInput{
		{[]string{"audit"}, ExitError, `^keywarden: .*profile "nope" \(AWS_PROFILE\) is not in `},
	})
}

// TestDeadEndpointIsOneLine: where nothing listens, the verbs fail at once,
// naming the endpoint and the variable that set it.
func TestDeadEndpointIsOneLine(t *testing.T) {
	home := linesEnv(t)
	endpoint := "http://" + awstest.ClosedAddr(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	id, sec := awstest.FakeKeyID("dead", 123456789012), awstest.FakeSecret("dead")
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sec)
	creds := "[default]\naws_access_key_id = " + id + "\naws_secret_access_key = " + sec + "\n"
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := regexp.QuoteMeta("cannot connect to "+endpoint+" (AWS_ENDPOINT_URL): connection refused") + `$`
	checkLines(t, []badInput{
		{[]string{"audit"}, ExitError, `^keywarden: .*` + dead},
		{[]string{"respond", id, "--no-lookup"}, ExitError, `^keywarden: .*` + dead},
		{[]string{"rotate", "--yes"}, ExitError, `^keywarden: .*` + dead},
		{[]string{"retire", "plan", "--user", "u", "lookup:us-east-1"}, ExitError, `^keywarden: .*` + dead},
		{[]string{"watch", "lookup:us-east-1"}, ExitError, `^keywarden: watch lookup:us-east-1: cloudtrail lookup in us-east-1: ` + dead},
		{[]string{"scan", "--verify", home}, -1, ``},
	})
}

// TestUsualMistakesAreOneLine runs each verb's common mistakes that need no
// AWS: each is one line naming its input, exit 2, nothing said twice.
func TestUsualMistakesAreOneLine(t *testing.T) {
	home := linesEnv(t)
	bad := filepath.Join(home, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(home, "missing")
	scenario := func(name, body string) string {
		p := filepath.Join(home, name+".yaml")
		if err := os.WriteFile(p, []byte("calls:\n  - {service: sts, action: GetCallerIdentity}\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := []string{"drill", "run", "--account", "123456789012", "--yes"}
	session := awstest.FakeSessionKeyID("lines", 123456789012)
	for _, v := range []string{"GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN"} {
		t.Setenv(v, "")
	}
	checkLines(t, []badInput{
		{[]string{"scan", missing}, ExitError, `^keywarden: .*missing`},
		{[]string{"scan", "--baseline", missing, home}, ExitError, `^keywarden: .*missing`},
		{[]string{"scan", "--baseline", bad, home}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"scan", "--config", missing, home}, ExitError, `^keywarden: .*missing`},
		{[]string{"scan", "--verify", "--canary-account", "12345", home}, ExitError, `^keywarden: --canary-account "12345": want a 12-digit AWS account id$`},
		{[]string{"canary", "check", "--grace", "soon"}, ExitError, `^keywarden: --grace "soon": time: invalid duration "soon"$`},
		{[]string{"scan", "--commit-msg", missing}, ExitError, `^keywarden: .*missing`},
		{[]string{"audit", "--diff", missing}, ExitError, `^keywarden: --diff: .*missing`},
		{[]string{"audit", "--diff", bad}, ExitError, `^keywarden: --diff: .*bad\.json`},
		{[]string{"rotate", "--config", missing}, ExitError, `^keywarden: .*missing`},
		{[]string{"rotate", "--config", bad}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"rotate", "--user", "u", "--to", "nowhere:x"}, ExitError, `^keywarden: --to: .*nowhere`},
		{[]string{"rotate", "--profile", "nope"}, ExitError, `^keywarden: .*nope`},
		{[]string{"rotate", "--user", "ci", "--to", "github:acme/api"}, ExitError,
			`^keywarden: rotate user ci: target github:acme/api: no GitHub token: set GITHUB_TOKEN or GH_TOKEN \(.*\) \(checked before any change: nothing was changed\)$`},
		{[]string{"rotate", "--user", "ci", "--to", "gitlab:acme/api"}, ExitError, `^keywarden: rotate user ci: target gitlab:acme/api: no GitLab token: set GITLAB_TOKEN `},
		{[]string{"rotate", "--user", "ci", "--to", "envfile:" + filepath.Join(missing, "app.env")}, ExitError,
			`^keywarden: rotate user ci: target envfile:.*app\.env: its directory .*missing does not take new files \(an atomic write needs one\): no such file or directory \(checked before any change: nothing was changed\)$`},
		{[]string{"rotate", "undo"}, ExitError, `^keywarden: `},
		{[]string{"rotate", "undo", "rot-x"}, ExitError, `^keywarden: .*rot-x`},
		{[]string{"rotate", "status", "--state", filepath.Join(bad, "state.db")}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"rotate", "schedule", "--at", "25:00"}, ExitError, `^keywarden: --at "25:00": `},
		{[]string{"creds", "import", "--profile", "nope", "--yes"}, ExitError, `^keywarden: .*nope`},
		{[]string{"creds", "export", "nope"}, ExitError, `^keywarden: .*nope`},
		{[]string{"creds", "remove", "nope"}, ExitError, `^keywarden: .*nope`},
		{[]string{"creds", "process", "nope"}, ExitError, `^keywarden: .*nope`},
		{[]string{"creds", "scrub", missing}, -1, ``},
		{[]string{"exec", "nope", "--", "true"}, ExitError, `^keywarden: .*nope`},
		{[]string{"exec", "default", "--", "no-such-command-here"}, ExitError, ``},
		{[]string{"respond", "--health-event", missing}, ExitError, `^keywarden: --health-event: .*missing`},
		{[]string{"respond", "--health-event", bad}, ExitError, `^keywarden: .*`},
		{[]string{"watch", missing}, ExitError, `^keywarden: .*missing`},
		{[]string{"watch", "--rules", missing, bad}, ExitError, `^keywarden: .*missing`},
		{[]string{"watch", "--sigma", bad, bad}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"watch", "lookup:us-east-1,mars-1"}, ExitError, `^keywarden: SOURCE lookup: "mars-1" is not a region name \(such as us-east-1\)$`},
		{[]string{"canary", "create", "Bad"}, ExitError, `^keywarden: canary name "Bad": want 1-63 lower-case letters, digits, dots or dashes, starting with a letter or digit$`},
		{[]string{"canary", "create", "x", "--place", "yaml:x"}, ExitError, `^keywarden: --place "yaml:x": want FORMAT:PATH, FORMAT one of credentials, dotenv, `},
		{[]string{"canary", "create", "x", "--place", "json:" + bad}, ExitError, `^keywarden: place json:.*bad\.json: the file exists; a json placement is a file of its own$`},
		{[]string{"canary", "rotate", "nope"}, ExitError, `^keywarden: canary nope: no such canary$`},
		{[]string{"canary", "delete", "nope", "--yes"}, ExitError, `^keywarden: canary nope: no such canary$`},
		{[]string{"canary", "list", "--state", filepath.Join(bad, "state.db")}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"policy", "suggest", bad}, ExitError, `^keywarden: give exactly one of --key, --user or --role`},
		{[]string{"policy", "suggest", "--key", "AKIA123", bad}, ExitError, `^keywarden: --key "AKIA123": want an access key id \(AKIA… or ASIA…, 20 characters\)$`},
		{[]string{"policy", "suggest", "--user", "u", "--threshold", "0", bad}, ExitError, `^keywarden: --threshold 0: want a positive number$`},
		{[]string{"policy", "suggest", "--user", "u"}, ExitError, `^keywarden: give at least one SOURCE: a log file or directory, s3://bucket/prefix, - or lookup:`},
		{[]string{"policy", "suggest", "--user", "u", missing}, ExitError, `^keywarden: SOURCE .*missing: no such file or directory$`},
		{[]string{"policy", "suggest", "--role", "r", "lookup:mars-1"}, ExitError, `^keywarden: SOURCE lookup: "mars-1" is not a region name \(such as us-east-1\)$`},
		{[]string{"policy", "suggest", "--user", "u", "--since", "0d", bad}, ExitError, `^keywarden: --since "0d": want a positive whole number`},
		{[]string{"retire", "plan", bad}, ExitError, `^keywarden: give exactly one of --key, --user or --all$`},
		{[]string{"retire", "plan", "--all", "--user", "u", bad}, ExitError, `^keywarden: give exactly one of --key, --user or --all$`},
		{[]string{"retire", "plan", "--key", session, bad}, ExitError, `^keywarden: --key "` + session + `": want a long-term access key id \(AKIA…, 20 characters\)$`},
		{[]string{"retire", "plan", "--all", "--repo", "acme/*", bad}, ExitError, `^keywarden: --repo "acme/\*": want owner/name \(or group/subgroup/project\), no wildcard$`},
		{[]string{"retire", "plan", "--all", "--ref", "main", bad}, ExitError, `^keywarden: --ref "main": want refs/heads/BRANCH or environment:NAME, no wildcard$`},
		{[]string{"retire", "plan", "--all"}, ExitError, `^keywarden: give at least one SOURCE: a log file or directory, s3://bucket/prefix, - or lookup:`},
		{[]string{"retire", "plan", "--user", "u", missing}, ExitError, `^keywarden: SOURCE .*missing: no such file or directory$`},
		{[]string{"retire", "plan", "--all", "--format", "html", bad}, ExitError, `^keywarden: --format "html": want `},
		{[]string{"retire", "plan", "--all", "--since", "0d", bad}, ExitError, `^keywarden: --since "0d": want a positive whole number`},
		{[]string{"policy", "diff", missing}, ExitError, `^keywarden: suggestion .*missing.*: no such file or directory$`},
		{[]string{"policy", "apply", bad, "--yes"}, ExitError, `^keywarden: .*bad\.json: read suggestion: `},
		{[]string{"policy", "apply", missing, "--keep-days", "-1"}, ExitError, `^keywarden: --keep-days "-1": want 0 or more days$`},
		{[]string{"policy", "undo", "lp-x"}, ExitError, `^keywarden: apply lp-x: no such apply \('keywarden policy list' shows them\)$`},
		{[]string{"policy", "list", "--state", filepath.Join(bad, "state.db")}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"drill", "plan", "--sink", "bogus:x"}, ExitError, `^keywarden: --sink: bad sink "bogus:…": want text, jsonl\[:PATH\], webhook:URL, slack:URL or sns:TOPIC_ARN$`},
		{[]string{"drill", "plan", "--sink", "slack:ftp://hooks.example/secret"}, ExitError, `^keywarden: --sink: slack sink: bad sink: want an http\(s\) URL with a host$`},
		{[]string{"drill", "plan", "--format", "pdf"}, ExitError, `^keywarden: --format "pdf": want one of md, html, json$`},
		{[]string{"drill", "plan", "--state", filepath.Join(bad, "state.db")}, ExitError, `^keywarden: .*bad\.json`},
		{append(run, "--scenario", scenario("int", "timeline:\n  detect: 15\n")), ExitError, `^keywarden: --scenario .*int\.yaml: line 4: cannot unmarshal !!int ` + "`15`" + `: want a duration such as 15m$`},
		{append(run, "--scenario", scenario("typo", "timline: {detect: 15m}\n")), ExitError, `^keywarden: --scenario .*typo\.yaml: line 3: unknown field timline$`},
		{append(run, "--scenario", scenario("step", "timeline: {steps: {exfil: 1m}}\n")), ExitError, `^keywarden: --scenario .*step\.yaml: timeline steps\.exfil: no such step \(want one of create, leak, detonate, detect, contain, review, cleanup\)$`},
		{append(run, "--scenario", scenario("broken", "calls: [\n")), ExitError, `^keywarden: --scenario .*broken\.yaml: line 3: did not find expected node content$`},
		{append(run, "--scenario", scenario("laptop", "leak: laptop\nexpose_git: true\n")), ExitError, `^keywarden: --scenario .*laptop\.yaml: expose_git needs a repository: leak laptop has none \(want repo-history or ci-workflow\)$`},
		{append(run, "--respond", "KW-CT-SES-RECON"), ExitError, `^keywarden: --respond "KW-CT-SES-RECON": want RULE=contain$`},
		{append(run, "--contain", "lambda"), ExitError, `^keywarden: --contain "lambda": want drill or team$`},
		{append(run, "--respond", "KW-CT-SES-RECON=contain", "--contain", "team"), ExitError, `^keywarden: give --respond \(the drill's watch contains the key\) or --contain \(drill or team\), not both$`},
		{append(run, "--respond", "KW-CT-SES-RECON=contain", "--contain", "drill"), ExitError, `^keywarden: give --respond \(the drill's watch contains the key\) or --contain \(drill or team\), not both$`},
		{append(run, "--respond", "KW-CT-SES-RECON=contain", "--alerts", "alerts.jsonl"), ExitError, `^keywarden: --respond needs the drill's own watch, and --alerts reads the team's instead: give one$`},
		{append(run, "--alerts", "sns:my-topic"), ExitError, `^keywarden: --alerts "sns:my-topic": want sns:TOPIC_ARN \(arn:aws:sns:REGION:ACCOUNT:NAME\), the topic the team's watch publishes to$`},
		{append(run, "--respond", "KW-NO-SUCH=contain"), ExitError, `^keywarden: --respond "KW-NO-SUCH=contain": unknown rule KW-NO-SUCH \(the built-in rules are in 'keywarden watch --list-rules'; --rules and --sigma add theirs\)$`},
		{[]string{"hook", "install", home}, ExitError, `^keywarden: .*not a git repository`},
		{[]string{"help", "bogus"}, ExitError, `^keywarden: no help topic "bogus": `},
		{[]string{"rotate", "undo", "a", "b"}, ExitError, `^keywarden: unexpected argument "b": usage: keywarden rotate undo \[ROTATION-ID\]$`},
		{[]string{"creds", "process"}, ExitError, `^keywarden: missing arguments: usage: keywarden creds process PROFILE$`},
		// Flags that only together are wrong, or that STS would refuse: still before any AWS call.
		{[]string{"audit", "--regions", "cn-north-1"}, ExitError,
			`^keywarden: --regions "cn-north-1": want regions of partition aws, the one of us-east-1 \(AWS_REGION\): cn-north-1 is in aws-cn$`},
		{[]string{"respond", awstest.FakeKeyID("p", 1), "--region", "cn-north-1", "--regions", "cn-northwest-1,us-east-1"}, ExitError,
			`^keywarden: --regions "cn-northwest-1,us-east-1": want regions of partition aws-cn, the one of cn-north-1 \(--region\): us-east-1 is in aws$`},
		{[]string{"watch", "--ses-volume", "5", "--regions", "us-gov-west-1", bad}, ExitError, `^keywarden: --regions "us-gov-west-1": want regions of partition aws, `},
		{[]string{"exec", "default", "--duration", "5m", "--", "true"}, ExitError, `^keywarden: --duration "5m": want 15m to 36h \(e\.g\. 1h30m\), the lengths STS grants$`},
		{[]string{"creds", "process", "default", "--mfa-token", "12ab56"}, ExitError, `^keywarden: --mfa-token "12ab56": want the 6-digit code the MFA device shows$`},
		{[]string{"rotate", "--mfa-token", "1234567"}, ExitError, `^keywarden: --mfa-token "1234567": want the 6-digit code the MFA device shows$`},
	})
	t.Setenv("AWS_REGION", "")
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[profile gov]\nregion = us-gov-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkLines(t, []badInput{
		{[]string{"audit", "--profile", "gov", "--regions", "us-east-1"}, ExitError,
			`^keywarden: --regions "us-east-1": want regions of partition aws-us-gov, the one of us-gov-west-1 \(profile gov\): us-east-1 is in aws$`},
		{[]string{"audit", "--regions", "us-east-1,cn-north-1"}, ExitError, `the one of us-east-1 \(the first of them\): cn-north-1 is in aws-cn$`},
	})
}

// TestHostileInputIsOneLine: input no tool of AWS's or keywarden's writes
// (corrupt or nested archives, JSON nested without end, UTF-16, a record that
// never ends, a device given as a file, a shared file damaged with NUL bytes,
// a site that never answers), given alone, is one line naming it, exit 2,
// and no report file.
func TestHostileInputIsOneLine(t *testing.T) {
	home := linesEnv(t)
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte("some text\n"), 1000))
	zw.Close()
	corruptGz := bytes.Clone(gz.Bytes())
	copy(corruptGz[10:], bytes.Repeat([]byte{0xff}, 20))
	nested := []byte("just text\n")
	for i := 6; i > 0; i-- {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		f, _ := w.Create(fmt.Sprintf("l%d", i))
		f.Write(nested)
		w.Close()
		nested = b.Bytes()
	}
	deep := write("deep.json", []byte(`{"Records":[`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+"]}"))
	utf16 := write("utf16.json", []byte("\xff\xfe{\x00}\x00"))
	endless := write("endless.json", []byte(`{"Records":[{"eventName":"X","userAgent":"`+strings.Repeat("A", 9<<20)))
	corrupt := write("corrupt.gz", corruptGz)
	cut := write("cut.zip", nested[:len(nested)/2])
	deepZip := write("deep.zip", nested)
	key := awstest.FakeKeyID("hostile", 123456789012)
	creds := filepath.Join(home, ".aws", "credentials")
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer stall.Close()
	out := filepath.Join(home, "report.out")
	checkLines(t, []badInput{
		{[]string{"scan", "-o", out, corrupt}, ExitError, `^keywarden: scan .*corrupt\.gz: flate: corrupt input before offset \d+$`},
		{[]string{"scan", "-o", out, cut}, ExitError, `^keywarden: scan .*cut\.zip: zip: not a valid zip file$`},
		{[]string{"scan", "-o", out, deepZip}, ExitError, `^keywarden: scan .*deep\.zip!l1!l2!l3: zip nested deeper than 3 archive levels: archive limit exceeded$`},
		{[]string{"scan", "--url", stall.URL}, ExitError, `^keywarden: scan ` + regexp.QuoteMeta(stall.URL) + `/: get /kw-[0-9a-f]+: redirect loop: stopped after 5 redirects$`},
		{[]string{"scan", "--baseline", utf16, home}, ExitError, `^keywarden: read baseline .*utf16\.json: not a keywarden report: UTF-16 or UTF-32 text, or binary \(keywarden writes UTF-8\)$`},
		{[]string{"watch", deep}, ExitError, `^keywarden: watch .*deep\.json: JSON nested deeper than 10000 levels$`},
		{[]string{"watch", utf16}, ExitError, `^keywarden: watch .*utf16\.json: not JSON in UTF-8: UTF-16 or UTF-32 text, or binary \(convert text with e\.g\. iconv -f UTF-16 -t UTF-8\)$`},
		{[]string{"watch", endless}, ExitError, `^keywarden: watch .*endless\.json: a record larger than 8 MiB, the most one record may hold$`},
		{[]string{"scan", "--config", "/dev/zero", home}, ExitError, `^keywarden: read allowlist /dev/zero: larger than 1 MiB, not an allowlist$`},
		{[]string{"watch", "--rules", "/dev/zero", deep}, ExitError, `^keywarden: read rules /dev/zero: larger than 4 MiB$`},
		{[]string{"respond", "--health-event", "/dev/zero"}, ExitError, `^keywarden: --health-event: read /dev/zero: larger than 1 MiB, not an AWS Health event$`},
		{[]string{"audit", "--diff", utf16}, ExitError, `^keywarden: --diff: read .*utf16\.json: not a keywarden report: UTF-16 or UTF-32 text`},
	})
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed run left %s", out)
	}
	for body, line := range map[string]string{
		"[default]\naws_access_key_id = " + key + "\x00\x00\naws_secret_access_key = " + awstest.FakeSecret("hostile") + "\n": `^keywarden: .*profile "default" in ~/\.aws/credentials: its key holds control characters \(NUL bytes of a damaged file\?\), which no request can be signed with: fix the file by hand`,
		strings.Repeat("\x00", 512): `^keywarden: profile "default" is not in ~/\.aws/credentials \(which holds NUL bytes: a damaged file\?\)`,
	} {
		if err := os.WriteFile(creds, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		checkLines(t, []badInput{
			{[]string{"rotate", "--dry-run"}, ExitError, line},
			{[]string{"creds", "import", "--profile", "default", "--yes"}, ExitError, line},
			{[]string{"exec", "default", "--", "true"}, ExitError, line},
		})
		if got, _ := os.ReadFile(creds); string(got) != body {
			t.Errorf("the damaged credentials file was changed")
		}
	}
}

// TestWatchStdinThatNeverEndsIsBounded: a record on stdin that never ends
// is read up to the 8 MiB bound on one record, then one line and exit 2.
func TestWatchStdinThatNeverEndsIsBounded(t *testing.T) {
	linesEnv(t)
	in := &awstest.Counting{R: io.MultiReader(strings.NewReader(`{"Records":[{"eventName":"X","userAgent":"`), awstest.Endless('A'))}
	var stdout, stderr bytes.Buffer
	code := Main([]string{"watch", "-"}, Deps{Stdin: in, Stdout: &stdout, Stderr: &stderr, Prompter: &answers{}})
	if want := "keywarden: watch -: stdin: a record larger than 8 MiB, the most one record may hold\n"; code != ExitError || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), ExitError, want)
	}
	if in.N > 9<<20 {
		t.Errorf("read %d bytes of stdin; want at most about 8 MiB", in.N)
	}
}

// TestMalformedKeysAreRefused: a key being imported that is not shaped like
// one is refused with a line naming the profile and the file, never the
// secret, and the file is left as it was.
func TestMalformedKeysAreRefused(t *testing.T) {
	home := linesEnv(t)
	short := awstest.FakeSecret("bad")[:39]
	creds := filepath.Join(home, ".aws", "credentials")
	before := "[bad]\naws_access_key_id = " + awstest.FakeKeyID("bad", 123456789012) + "\naws_secret_access_key = " + short + "\n"
	if err := os.WriteFile(creds, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	want := `^keywarden: (import: )?profile bad in ` + regexp.QuoteMeta(creds) + `: malformed secret access key: want 40 characters of A-Z, a-z, 0-9, \+ and /; it has 39$`
	checkLines(t, []badInput{
		{[]string{"creds", "import", "--profile", "bad", "--yes"}, ExitError, want},
		// scrub imports the pairs scan's detector finds, which have a key's
		// shape; this one it lists, and leaves.
		{[]string{"creds", "scrub", "--import", "--yes"}, ExitFindings, ``},
	})
	for _, args := range [][]string{{"creds", "import", "--profile", "bad", "--yes"}, {"creds", "scrub", "--import", "--yes"}} {
		stdout, stderr, _ := runMain(t, args...)
		if strings.Contains(stdout+stderr, short) {
			t.Errorf("%v prints the secret", args)
		}
	}
	if got, _ := os.ReadFile(creds); string(got) != before {
		t.Errorf("the credentials file changed:\n%s", got)
	}
}

// TestBadInputLeavesNoReport: a run that fails before it has read anything
// writes no -o file, not even an empty or half one, and leaves no temporary
// file beside it; a respond report written all the same names the failure
// and never claims there was nothing to contain.
func TestBadInputLeavesNoReport(t *testing.T) {
	home := linesEnv(t)
	bad := filepath.Join(home, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(home, "out")
	if err := os.Mkdir(outDir, 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "report")
	key := awstest.FakeKeyID("lines", 123456789012)
	for _, args := range [][]string{
		{"scan", "-o", out, filepath.Join(home, "missing")},
		{"scan", "--format", "sarif", "-o", out, "--baseline", bad, home},
		{"watch", "-o", out, bad},
		{"audit", "-o", out},
		{"audit", "--format", "html", "-o", out},
		{"audit", "keys", "-o", out},
	} {
		if _, stderr, code := runMain(t, args...); code != ExitError {
			t.Errorf("%v: exit %d, want %d; stderr:\n%s", args, code, ExitError, stderr)
		}
		if names := dirNames(t, outDir); len(names) != 0 {
			t.Errorf("%v: left %v in the output directory", args, names)
		}
	}
	for _, format := range []string{"markdown", "json", "html"} {
		_, stderr, code := runMain(t, "respond", key, "--no-lookup", "--format", format, "-o", out)
		if code != ExitError {
			t.Errorf("respond --format %s: exit %d, want %d; stderr:\n%s", format, code, ExitError, stderr)
		}
		body, err := os.ReadFile(out)
		if err != nil {
			continue // no report is as good as a true one
		}
		if s := strings.ToLower(string(body)); strings.Contains(s, "nothing to contain") || strings.Contains(s, "no event") || !strings.Contains(s, "fail") || strings.Contains(s, "operation error") {
			t.Errorf("respond --format %s after identify failed wrote a report that claims absence or hides the failure:\n%s", format, body)
		}
		os.Remove(out)
		if names := dirNames(t, outDir); len(names) != 0 {
			t.Errorf("respond --format %s: left %v in the output directory", format, names)
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestRetireApplyMistakesAreOneLine: retire apply, finish, undo and list
// refuse bad input in one line, before any AWS call.
func TestRetireApplyMistakesAreOneLine(t *testing.T) {
	home := linesEnv(t)
	write := func(name, text string) string {
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.json", "{not json")
	plan := write("plan.json", `{"version":1,"keys":[]}`)
	v2 := write("v2.json", `{"version":2,"keys":[]}`)
	missing := filepath.Join(home, "missing.json")
	checkLines(t, []badInput{
		{[]string{"retire", "apply", bad, "--yes"}, ExitError, `^keywarden: .*bad\.json: read retire plan: `},
		{[]string{"retire", "apply", missing, "--yes"}, ExitError, `^keywarden: retire plan .*missing\.json: no such file or directory$`},
		{[]string{"retire", "apply", v2, "--yes"}, ExitError, `^keywarden: .*v2\.json: retire plan version 2: want 1$`},
		{[]string{"retire", "apply", plan}, ExitError, `^keywarden: retire apply .*plan\.json changes IAM: read the plan, then give --yes; nothing changed$`},
		{[]string{"retire", "apply"}, ExitError, `^keywarden: missing arguments: usage: keywarden retire apply PLAN\.json --yes$`},
		{[]string{"retire", "finish"}, ExitError, `^keywarden: retire finish: give retirement ids or --all \(not both\)$`},
		{[]string{"retire", "finish", "--all", "retire-x"}, ExitError, `^keywarden: retire finish: give retirement ids or --all \(not both\)$`},
		{[]string{"retire", "finish", "--all", "--window", "0"}, ExitError, `^keywarden: --window "0": `},
		{[]string{"retire", "finish", "--all", "--grace", "soon"}, ExitError, `^keywarden: --grace "soon": `},
		{[]string{"retire", "finish", "retire-nope"}, ExitError, `^keywarden: retirement retire-nope: no such retirement$`},
		{[]string{"retire", "undo"}, ExitError, `^keywarden: missing arguments: usage: keywarden retire undo ID$`},
		{[]string{"retire", "undo", "retire-nope"}, ExitError, `^keywarden: retirement retire-nope: no such retirement$`},
		{[]string{"retire", "list", "--state", filepath.Join(bad, "state.db")}, ExitError, `^keywarden: .*bad\.json`},
		{[]string{"retire", "list", "--format", "csv"}, ExitError, `^keywarden: --format "csv": want one of text, json$`},
		{[]string{"retire", "schedule", "--at", "25:00"}, ExitError, `^keywarden: --at "25:00": `},
		{[]string{"retire", "schedule", "daily"}, ExitError, `^keywarden: unexpected argument "daily": put finish's arguments after --$`},
	})
}
