package sessionexec

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/secret"
)

func session(token bool) Session {
	key := credential.Key{ID: awstest.FakeSessionKeyID("s", 123456789012), Secret: secret.New(awstest.FakeSecret("s"))}
	if token {
		key.SessionToken = secret.New(awstest.FakeSessionToken("s"))
	}
	return Session{Profile: "dev", Region: "eu-west-1", Key: key, Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
}

func TestEnvReplacesEveryCredentialVariable(t *testing.T) {
	environ := []string{"PATH=/bin", "AWS_ACCESS_KEY_ID=old", "AWS_SECRET_ACCESS_KEY=old", "AWS_SESSION_TOKEN=old",
		"AWS_SECURITY_TOKEN=old", "AWS_CREDENTIAL_EXPIRATION=old", "AWS_PROFILE=prod", "AWS_DEFAULT_PROFILE=prod",
		"AWS_VAULT=x", "KEYWARDEN_PASSPHRASE=store-secret", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "HOME=/h"}
	s := session(true)
	got := Env(environ, s)
	want := []string{"PATH=/bin", "HOME=/h",
		"AWS_ACCESS_KEY_ID=" + s.Key.ID, "AWS_SECRET_ACCESS_KEY=" + s.Key.Secret.Reveal(), "KEYWARDEN_PROFILE=dev",
		"AWS_SESSION_TOKEN=" + s.Key.SessionToken.Reveal(), "AWS_CREDENTIAL_EXPIRATION=2030-01-02T02:04:05Z",
		"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=eu-west-1"}
	if !slices.Equal(got, want) {
		t.Errorf("Env:\n got %q\nwant %q", got, want)
	}
}

func TestEnvOfALongTermKeyWithoutRegion(t *testing.T) {
	s := session(false)
	s.Region, s.Expires = "", time.Time{}
	got := Env([]string{"AWS_REGION=us-west-2", "AWS_SESSION_TOKEN=old"}, s)
	want := []string{"AWS_REGION=us-west-2",
		"AWS_ACCESS_KEY_ID=" + s.Key.ID, "AWS_SECRET_ACCESS_KEY=" + s.Key.Secret.Reveal(), "KEYWARDEN_PROFILE=dev"}
	if !slices.Equal(got, want) {
		t.Errorf("Env: no token, no expiry, the environment's region kept:\n got %q\nwant %q", got, want)
	}
}

func run(t *testing.T, script string) (int, string, error) {
	t.Helper()
	var out bytes.Buffer
	code, err := Run([]string{"sh", "-c", script}, os.Environ(), Stdio{In: strings.NewReader("in\n"), Out: &out, Err: &out})
	return code, out.String(), err
}

func TestRunPassesStdioAndTheExitStatus(t *testing.T) {
	code, out, err := run(t, `read line; echo "got $line"; echo err >&2; exit 7`)
	if err != nil || code != 7 || out != "got in\nerr\n" {
		t.Errorf("Run: %d %v %q; want 7, no error, stdin read and both streams passed", code, err, out)
	}
}

func TestRunReportsASignalDeathAs128PlusN(t *testing.T) {
	code, _, err := run(t, `kill -TERM $$`)
	if err != nil || code != 128+int(syscall.SIGTERM) {
		t.Errorf("Run: %d %v; want %d", code, err, 128+int(syscall.SIGTERM))
	}
}

func TestRunForwardsSignalsToTheChild(t *testing.T) {
	pr, pw := io.Pipe()
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := Run([]string{"sh", "-c", `trap 'exit 42' USR1; echo ready; while :; do sleep 0.05; done`},
			os.Environ(), Stdio{Out: pw, Err: io.Discard})
		pw.Close()
		done <- result{code, err}
	}()
	if line, err := bufio.NewReader(pr).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the child did not start: %q %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	// Run has been listening since before the child started: the signal
	// reaches the child, not this test's default handler.
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.code != 42 {
			t.Errorf("Run: %d %v; want the child's trap to exit 42", r.code, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the signal did not reach the child")
	}
}

func TestRunOfAMissingCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, err := Run([]string{"no-such-command-here"}, nil, Stdio{})
	var notRun *exec.Error
	if code != 0 || !errors.As(err, &notRun) || !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Run: %d %v; want an *exec.Error wrapping exec.ErrNotFound", code, err)
	}
	if want := `exec: "no-such-command-here": executable file not found in $PATH`; err == nil || err.Error() != want {
		t.Errorf("Run: %v; want %q, saying exec once", err, want)
	}
}
