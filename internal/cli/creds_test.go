package cli

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awsfile"
)

// credsEnv is rotateEnv plus an empty file-backed store with a fast work
// factor and a passphrase in the environment.
func newCredsEnv(t *testing.T) *rotateEnv {
	t.Helper()
	e := newRotateEnv(t)
	t.Setenv("KEYWARDEN_VAULT", filepath.Join(t.TempDir(), "vault.age"))
	t.Setenv("KEYWARDEN_VAULT_BACKEND", "file")
	t.Setenv("KEYWARDEN_VAULT_SCRYPT_LOGN", "10")
	t.Setenv("KEYWARDEN_PASSPHRASE", "correct horse battery staple")
	return e
}

// childCmd runs this test binary as keywarden (see TestMain) or, with
// another name, that program, in the test's environment plus extra.
func childCmd(name string, args []string, extra ...string) *exec.Cmd {
	if name == "keywarden" {
		name = os.Args[0]
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), extra...)
	return cmd
}

func TestCredsImportMovesTheKeyAndTheAWSCLIUsesIt(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	e := newCredsEnv(t)
	before := e.read()
	stdout, stderr, code := runMain(t, "creds", "import", "--profile", "default", "--yes")
	if code != ExitOK {
		t.Fatalf("import: exit %d\n%s\n%s", code, stdout, stderr)
	}
	after := e.read()
	if strings.Contains(after, e.key.Secret.Reveal()) && !strings.Contains(after, "[shared]") {
		t.Fatal("the fixture lost its other profiles")
	}
	// default's key lines are gone (shared keeps its own copy: not imported),
	// replaced by credential_process in their place; nothing else changed.
	want := strings.Replace(before, "aws_access_key_id = "+e.key.KeyID+"\naws_secret_access_key = "+e.key.Secret.Reveal()+"\n",
		"credential_process = "+os.Args[0]+" creds process default\n", 1)
	if after != want {
		t.Fatalf("credentials file after import:\n%s\nwant:\n%s", after, want)
	}
	listed, _, _ := runMain(t, "creds", "list")
	if !strings.Contains(listed, e.key.KeyID) || strings.Contains(listed, e.key.Secret.Reveal()) {
		t.Errorf("list must show the key id and never the secret:\n%s", listed)
	}

	// The real aws CLI, through credential_process, against moto.
	aws := childCmd("aws", []string{"sts", "get-caller-identity", "--profile", "default", "--output", "json"})
	var out, errOut bytes.Buffer
	aws.Stdout, aws.Stderr = &out, &errOut
	if err := aws.Run(); err != nil || !strings.Contains(out.String(), `"Account"`) {
		t.Fatalf("aws sts get-caller-identity through keywarden: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	// It really went through keywarden: with a wrong passphrase it fails with keywarden's words.
	aws = childCmd("aws", []string{"sts", "get-caller-identity", "--profile", "default"}, "KEYWARDEN_PASSPHRASE=wrong")
	errOut.Reset()
	aws.Stderr = &errOut
	if err := aws.Run(); err == nil || !strings.Contains(errOut.String(), "passphrase") {
		t.Errorf("with a wrong passphrase the aws CLI must fail on keywarden's error, got %v:\n%s", err, errOut.String())
	}
}

func TestCredsProcessSpeaksTheContract(t *testing.T) {
	e := newCredsEnv(t)
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	var first map[string]any
	for i := range 2 {
		if i == 1 {
			// moto hands out the same session every time, so only an STS
			// that cannot be reached proves the second one is the cache's.
			t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
		}
		stdout, stderr, code := runMain(t, "creds", "process", "default")
		if code != ExitOK || stderr != "" || strings.Count(stdout, "\n") != 1 {
			t.Fatalf("process: exit %d, want one line on stdout and nothing on stderr\n%s\n%s", code, stdout, stderr)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} {
			if _, ok := got[k]; !ok || len(got) != 5 {
				t.Fatalf("want exactly Version, AccessKeyId, SecretAccessKey, SessionToken, Expiration; got %v", keysOf(got))
			}
		}
		exp, err := time.Parse(time.RFC3339, got["Expiration"].(string))
		if got["Version"] != float64(1) || err != nil || time.Until(exp) < 30*time.Minute {
			t.Errorf("Version %v, Expiration %v (%v): want 1 and an hour ahead", got["Version"], got["Expiration"], err)
		}
		if got["AccessKeyId"] == e.key.KeyID {
			t.Error("process served the long-term key, not a session")
		}
		if i == 0 {
			first = got
		} else if !maps.Equal(got, first) {
			t.Error("the second call served another session than the cached one")
		}
	}
	t.Setenv("AWS_ENDPOINT_URL", e.srv.URL)
	stdout, _, _ := runMain(t, "creds", "process", "default", "--no-session")
	if !strings.Contains(stdout, `"AccessKeyId":"`+e.key.KeyID+`"`) || strings.Contains(stdout, "SessionToken") {
		t.Errorf("--no-session: want the long-term key and no token:\n%s", stdout)
	}
	_, stderr, code := runMain(t, "creds", "process", "missing")
	if code != ExitError || !strings.Contains(stderr, "not in the store") {
		t.Errorf("a missing profile: want one clear error, got %d: %s", code, stderr)
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCredsWrongPassphraseChangesNothing(t *testing.T) {
	e := newCredsEnv(t)
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	store, _ := os.ReadFile(os.Getenv("KEYWARDEN_VAULT"))
	file := e.read()
	t.Setenv("KEYWARDEN_PASSPHRASE", "not it")
	for _, args := range [][]string{{"creds", "list"}, {"creds", "process", "default"}, {"creds", "export", "default"}} {
		_, stderr, code := runMain(t, args...)
		if code != ExitError || !strings.Contains(stderr, "passphrase") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("%v with a wrong passphrase: want one line about it, got %d:\n%s", args, code, stderr)
		}
	}
	after, _ := os.ReadFile(os.Getenv("KEYWARDEN_VAULT"))
	if !bytes.Equal(store, after) || e.read() != file {
		t.Error("a wrong passphrase changed the store or the credentials file")
	}
}

func TestCredsExportUndoesImport(t *testing.T) {
	e := newCredsEnv(t)
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	if stdout, stderr, code := runMain(t, "creds", "export", "default"); code != ExitOK {
		t.Fatalf("export: exit %d\n%s\n%s", code, stdout, stderr)
	}
	creds, _, err := awsfile.Load(e.creds, awsfile.Credentials)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := creds.Get("default", "aws_access_key_id")
	sec, _ := creds.Get("default", "aws_secret_access_key")
	if _, has := creds.Get("default", "credential_process"); has || id != e.key.KeyID || sec != e.key.Secret.Reveal() {
		t.Errorf("export must put the key back and drop credential_process:\n%s", e.read())
	}
	listed, _, _ := runMain(t, "creds", "list")
	if strings.Contains(listed, e.key.KeyID) {
		t.Errorf("export must remove the key from the store:\n%s", listed)
	}
}

func TestExecRunsTheCommandWithASession(t *testing.T) {
	e := newCredsEnv(t)
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	t.Setenv("AWS_PROFILE", "shared")
	script := `test -z "$AWS_PROFILE" || exit 3; test -n "$AWS_SESSION_TOKEN" || exit 4; ` +
		`test "$AWS_REGION" = us-east-1 || exit 5; test -n "$AWS_CREDENTIAL_EXPIRATION" || exit 6; ` +
		`test "$AWS_ACCESS_KEY_ID" != "` + e.key.KeyID + `" || exit 8; test -z "$KEYWARDEN_PASSPHRASE" || exit 9; exit 7`
	stdout, stderr, code := runMain(t, "exec", "default", "--", "sh", "-c", script)
	if code != 7 {
		t.Fatalf("want the command's exit status 7 (3-6, 8, 9: a variable was wrong), got %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestExecForwardsSignals(t *testing.T) {
	newRotateEnv(t) // the default profile holds a plaintext key: no store needed
	cmd := childCmd("keywarden", []string{"exec", "default", "--", "sh", "-c", `trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done`})
	var out bytes.Buffer
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("the command did not start: %v %q %s", err, buf, out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 42 {
		t.Errorf("want the child's trap to exit 42 through keywarden, got %v\n%s", err, out.String())
	}
}

func TestRotateAStoreHeldKey(t *testing.T) {
	e := newCredsEnv(t)
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	file := e.read()
	stdout, stderr, code := runMain(t, "rotate", "--grace", "0")
	if code != ExitOK || !strings.Contains(stdout, "delivered key") || !strings.Contains(stdout, "vault:default") {
		t.Fatalf("rotate: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if e.read() != file {
		t.Error("rotating a store-held key must not touch the credentials file")
	}
	processed, _, _ := runMain(t, "creds", "process", "default", "--no-session")
	keys := e.keys()
	var newID string
	for id, active := range keys {
		if active {
			newID = id
		}
	}
	if len(keys) != 1 || newID == e.key.KeyID || !strings.Contains(processed, newID) {
		t.Errorf("want the store to serve the one new key %v:\n%s", keys, processed)
	}
}

// TestExecAssumesARoleProfile: a role profile whose source was imported;
// the aws CLI inside exec is the role (moto answers GetCallerIdentity with
// the assumed role for keys it issued through AssumeRole).
func TestExecAssumesARoleProfile(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed")
	}
	newCredsEnv(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	create := childCmd("aws", []string{"iam", "create-role", "--role-name", "admin", "--assume-role-policy-document", trust},
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("create role: %v\n%s", err, out)
	}
	config := "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = default\nexternal_id = team-x\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	cmd := childCmd("keywarden", []string{"exec", "admin", "--", "aws", "sts", "get-caller-identity", "--query", "Arn", "--output", "text"})
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), ":assumed-role/admin/") {
		t.Fatalf("want the command to run as the assumed role: %v\n%s", err, out)
	}
}

func TestCredsScrubFindsAndImports(t *testing.T) {
	e := newCredsEnv(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	rc := "export AWS_ACCESS_KEY_ID=" + e.key.KeyID + "\nexport AWS_SECRET_ACCESS_KEY=" + e.key.Secret.Reveal() + "\n"
	if err := os.WriteFile(filepath.Join(home, ".bashrc"), []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runMain(t, "creds", "scrub", filepath.Dir(e.creds))
	if code != ExitFindings || !strings.Contains(stdout, ".bashrc") || !strings.Contains(stdout, "default") ||
		strings.Contains(stdout+stderr, e.key.Secret.Reveal()) {
		t.Fatalf("want both places listed, exit 1, no secret; got %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runMain(t, "creds", "scrub", "--import", filepath.Dir(e.creds))
	if code != ExitFindings || !strings.Contains(stdout, "imported default") || !strings.Contains(stdout, "imported shared") ||
		!strings.Contains(stdout, "1 key(s) outside") {
		t.Fatalf("want default and shared imported and .bashrc left: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(e.read(), e.key.Secret.Reveal()) {
		t.Errorf("the credentials file still holds the secret:\n%s", e.read())
	}
}

func TestCredsTruncatedStoreIsAClearErrorAndKeptAsIs(t *testing.T) {
	newCredsEnv(t)
	if _, stderr, code := runMain(t, "creds", "import", "--yes"); code != ExitOK {
		t.Fatalf("import: %s", stderr)
	}
	path := os.Getenv("KEYWARDEN_VAULT")
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"creds", "process", "default"}, {"creds", "list"}} {
		_, stderr, code := runMain(t, args...)
		if code != ExitError || !strings.Contains(stderr, path) || !strings.Contains(stderr, ".bak") {
			t.Errorf("%v on a truncated store: want one error naming it and its .bak, got %d:\n%s", args, code, stderr)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data[:len(data)/2]) {
		t.Error("the damaged store was written over")
	}
}

// TestCredsAsksThroughThePrompter: the confirmation, a new store's
// passphrase (twice) and an MFA code are asked through Deps.Prompter.
func TestCredsAsksThroughThePrompter(t *testing.T) {
	newCredsEnv(t)
	t.Setenv("KEYWARDEN_PASSPHRASE", "")
	run := func(p *answers, args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		code := Main(args, Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Prompter: p})
		return stdout.String() + stderr.String(), code
	}
	p := &answers{list: []string{"y", "pass words", "pass words"}}
	if out, code := run(p, "creds", "import", "--profile", "default"); code != ExitOK || !strings.Contains(out, "imported default") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	want := []string{"move 1 key(s) into the encrypted store and remove them from the file? [y/N] (hidden=false)",
		"keywarden store passphrase: (hidden=true)", "again: (hidden=true)"}
	if !slices.Equal(p.asked, want) {
		t.Errorf("asked %q\nwant %q", p.asked, want)
	}
	config := "[default]\nmfa_serial = arn:aws:iam::123456789012:mfa/deploy\n"
	if err := os.WriteFile(os.Getenv("AWS_CONFIG_FILE"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p = &answers{list: []string{"pass words", "123456"}}
	if out, code := run(p, "creds", "process", "default"); code != ExitOK || !strings.Contains(out, `"SessionToken"`) {
		t.Fatalf("process: exit %d\n%s", code, out)
	}
	want = []string{"keywarden store passphrase: (hidden=true)", "MFA code for arn:aws:iam::123456789012:mfa/deploy: (hidden=true)"}
	if !slices.Equal(p.asked, want) {
		t.Errorf("asked %q\nwant %q", p.asked, want)
	}
	out, code := run(&answers{}, "creds", "list")
	if code != ExitError || !strings.Contains(out, "no terminal to ask on (set KEYWARDEN_PASSPHRASE for unattended use)") {
		t.Errorf("nobody to ask: exit %d\n%s", code, out)
	}
}
