package target_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
)

// writeScript writes an executable sh script and returns its path.
func writeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hook.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExecGivesTheCommandCredentialsOnStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "got.json")
	script := writeScript(t, "cat > \"$1\"\necho \"marker=$KW_TEST_MARKER\" > \"$1.env\"\nenv | grep -c '^AWS_ACCESS_KEY_ID=' >> \"$1.env\" || true\n")
	t.Setenv("KW_TEST_MARKER", "from-parent")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	c := targettest.Creds("new")
	tg := mustParse(t, "exec:"+script+" "+out, target.Env{})

	for range 2 { // idempotent: the same key twice is fine
		if restore := targettest.Deliver(t, tg, c); restore != nil {
			t.Error("exec returned a restore function; it cannot undo a command")
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("stdin is not JSON: %v", err)
	}
	want := map[string]any{
		"Version": 1.0, "AccessKeyId": c.AccessKeyID, "SecretAccessKey": c.SecretAccessKey.Reveal(),
		"UserName": "ci-deploy", "AccountId": "123456789012", "Created": "2026-03-01T12:00:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stdin (-want +got):\n%s", diff)
	}
	env, _ := os.ReadFile(out + ".env")
	if diff := cmp.Diff("marker=from-parent\n0\n", string(env)); diff != "" {
		t.Errorf("environment: parent's kept, no AWS credentials added (-want +got):\n%s", diff)
	}
}

func TestExecFailureNamesStatusAndLastStderrLineRedacted(t *testing.T) {
	c := targettest.Creds("new")
	script := writeScript(t, "read -r line\necho \"got $line\"\necho first >&2\necho \"bad key: $(echo \"$line\" | sed 's/.*SecretAccessKey\":\"\\([^\"]*\\)\".*/\\1/')\" >&2\nexit 3\n")
	var stderr bytes.Buffer
	_, err := mustParse(t, "exec:"+script, target.Env{Stderr: &stderr}).Deliver(context.Background(), c)
	if err == nil {
		t.Fatal("Deliver succeeded; the command exited 3")
	}
	for _, part := range []string{"exit status 3", "bad key: [REDACTED]"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	targettest.AssertNoSecret(t, err, c)
	if strings.Contains(stderr.String(), c.SecretAccessKey.Reveal()) || !strings.Contains(stderr.String(), "got {") {
		t.Errorf("command output not forwarded redacted: %q", stderr.String())
	}
}

func TestExecStopsWhenTheContextIsCancelled(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "started")
	tg := mustParse(t, "exec:touch "+marker+"; exec sleep 600", target.Env{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(marker); err == nil {
				cancel()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if _, err := tg.Deliver(ctx, targettest.Creds("new")); err == nil {
		t.Fatal("Deliver succeeded; it was cancelled")
	}
}
