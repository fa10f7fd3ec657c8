package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/state"
)

// plantCanary makes user a canary in moto and in the state database.
func plantCanary(t *testing.T, srv *awstest.MotoServer, user string) (canary.Canary, awstest.UserKey) {
	t.Helper()
	uk := srv.CreateUserKey(t, user)
	c := canary.Canary{Name: user + "-canary", Account: "123456789012", User: user, Path: "/", ARN: uk.ARN, AccessKeyID: uk.KeyID,
		Placements: []canary.Placement{{Format: "dotenv", Path: "deploy/.env"}}, CreatedAt: time.Now().UTC()}
	saveCanary(t, c)
	return c, uk
}

func saveCanary(t *testing.T, c canary.Canary) {
	t.Helper()
	db, err := state.Open(os.Getenv("KEYWARDEN_STATE"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := c.Record("created", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// thief signs a call with the key.
func thief(t *testing.T, uk awstest.UserKey) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := awsx.CallerIdentity(ctx, awsx.WithKey(cfg, credential.Key{ID: uk.KeyID, Secret: uk.Secret})); err != nil {
		t.Fatal(err)
	}
}

// TestCanaryCheckAlertsOnUnloggedUseOnly: on moto, a use with no
// CloudTrail event is an alert (exit 1) once; a use watch alerted on is
// not; a canary whose key cannot be read makes the check incomplete.
func TestCanaryCheckAlertsOnUnloggedUseOnly(t *testing.T) {
	srv := awstest.Moto(t)
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	c, uk := plantCanary(t, srv, "svc-reports")

	out, errOut, code := runMain(t, "canary", "check")
	if code != ExitOK || !strings.Contains(out, "svc-reports-canary") || !strings.Contains(out, "quiet") || errOut != "" {
		t.Fatalf("never used: exit %d\n%s%s", code, out, errOut)
	}
	thief(t, uk)
	out, _, code = runMain(t, "canary", "check", "--grace", "0", "--format", "json")
	var rep struct {
		Canaries []map[string]any `json:"canaries"`
		Alerts   int              `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitFindings || rep.Alerts != 1 ||
		rep.Canaries[0]["status"] != "unlogged" || rep.Canaries[0]["planted"] != "dotenv:deploy/.env" {
		t.Fatalf("unlogged use: exit %d, %v\n%s", code, err, out)
	}
	if out, _, code = runMain(t, "canary", "check", "--grace", "0"); code != ExitOK || !strings.Contains(out, "quiet") {
		t.Errorf("the same use again: exit %d; want 0, the baseline moved\n%s", code, out)
	}

	time.Sleep(1100 * time.Millisecond) // last-used dates have seconds
	thief(t, uk)
	logs := t.TempDir()
	rec := fmt.Sprintf(`{"Records":[{"eventVersion":"1.09","eventID":"canary-use","eventTime":%q,"eventSource":"sts.amazonaws.com",
		"eventName":"GetCallerIdentity","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","userAgent":"trufflehog",
		"recipientAccountId":"123456789012","userIdentity":{"type":"IAMUser","accountId":"123456789012","userName":"svc-reports",
		"accessKeyId":%q,"arn":%q}}]}`, time.Now().UTC().Format(time.RFC3339), uk.KeyID, uk.ARN)
	file := filepath.Join(logs, "123456789012_CloudTrail_us-east-1_canary.json")
	if err := os.WriteFile(file, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runMain(t, "watch", "--format", "jsonl", file)
	if code != ExitFindings || !strings.Contains(out, `"rule":"KW-CT-CANARY"`) || !strings.Contains(out, `"canary":"svc-reports-canary"`) {
		t.Fatalf("watch of the canary's event: exit %d\n%s", code, out)
	}
	if out, _, code = runMain(t, "canary", "check", "--grace", "0"); code != ExitOK || !strings.Contains(out, "alerted by watch: sts.amazonaws.com:GetCallerIdentity") {
		t.Errorf("a use watch alerted on: exit %d; want 0, already alerted\n%s", code, out)
	}

	gone := c
	gone.Name, gone.AccessKeyID = "gone", awstest.FakeKeyID("gone", 123456789012)
	saveCanary(t, gone)
	out, errOut, code = runMain(t, "canary", "check")
	if code != ExitIncomplete || !strings.Contains(out, "unreadable") || !strings.Contains(errOut, "1 canary key could not be read") {
		t.Errorf("a canary whose key is gone: exit %d; want 3\n%s%s", code, out, errOut)
	}
}

func TestCanaryCheckWithoutCanariesSaysSo(t *testing.T) {
	t.Setenv("KEYWARDEN_STATE", filepath.Join(t.TempDir(), "state.db"))
	out, _, code := runMain(t, "canary", "check")
	if code != ExitOK || !strings.Contains(out, "no canaries registered") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
