package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

var auditNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func daysBefore(n int) audit.Date { return audit.At(auditNow.Add(-time.Duration(n) * 24 * time.Hour)) }

// testInventory: a well-kept root, deploy's key (70 days old, used
// yesterday), and a warning the reader left.
func testInventory() *audit.Inventory {
	return &audit.Inventory{
		AccountID: "123456789012", ReportGeneratedAt: auditNow.Add(-2 * time.Hour),
		Root: &audit.Root{ARN: "arn:aws:iam::123456789012:root", Created: daysBefore(900), MFA: audit.Yes},
		Users: []audit.User{{
			Name: "deploy", ARN: "arn:aws:iam::123456789012:user/deploy", Created: daysBefore(400),
			Password: audit.No, MFA: audit.No, Admin: audit.No,
			Keys: []audit.Key{{Slot: 1, ID: awstest.FakeKeyID("deploy", 123456789012), Status: audit.KeyActive,
				Created: daysBefore(70), LastUsed: daysBefore(1), LastUsedService: "s3", LastUsedRegion: "us-east-1"}},
		}},
		// A logging multi-region trail (default selectors), no roles, no instances.
		Trails: []audit.Trail{{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", HomeRegion: "us-east-1",
			MultiRegion: true, Logging: audit.Yes, SelectorsKnown: true}},
		TrailsRead: true, RolesRead: true, InstancesRead: true,
		Warnings: []string{"user deploy: list groups: throttled"},
	}
}

// fixedReader returns inv (or err) whatever the configuration, as a reader of a real account would.
func fixedReader(inv *audit.Inventory, err error) auditDeps {
	return auditDeps{
		read: func(context.Context, awsx.Options, auditaws.Options) (*audit.Inventory, readStats, error) {
			if err != nil {
				return nil, readStats{}, err
			}
			return inv, readStats{Calls: 7, ReportAge: 2 * time.Hour}, nil
		},
		now: func() time.Time { return auditNow },
	}
}

// runAuditCLI runs `keywarden audit ARGS` in-process the way Main does and
// returns stdout, stderr and the exit status.
func runAuditCLI(t *testing.T, ad auditDeps, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	deps := Deps{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}
	cmd := newAuditCmdWith(deps, ad)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	err := cmd.ExecuteContext(context.Background())
	if err != nil && !isFindings(err) {
		printError(&stderr, err)
	}
	return stdout.String(), stderr.String(), ExitCode(err)
}

func TestAuditExitStatusFollowsFailOn(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"default threshold fails on a medium finding", []string{"--as-of", "+30d"}, ExitFindings},
		{"medium threshold fails on a medium finding", []string{"--as-of", "+30d", "--fail-on", "medium"}, ExitFindings},
		{"high threshold passes a medium finding", []string{"--as-of", "+30d", "--fail-on", "high"}, ExitOK},
		{"nothing to find now", []string{}, ExitOK},
		{"twice the age limit is high", []string{"--as-of", "+120d", "--fail-on", "high"}, ExitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runAuditCLI(t, fixedReader(testInventory(), nil), tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
		})
	}
}

func TestAuditJSONNamesTheKeyAndJudgesAtAsOf(t *testing.T) {
	stdout, _, _ := runAuditCLI(t, fixedReader(testInventory(), nil), "--as-of", "2026-07-01T12:00:00Z", "--format", "json")
	var got []audit.Finding
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("json output does not decode: %v\n%s", err, stdout)
	}
	var summary []string
	for _, f := range got {
		summary = append(summary, fmt.Sprintf("%s %s %s %v", f.Check, f.Severity, f.KeyID, f.Evidence["age_days"]))
	}
	want := []string{fmt.Sprintf("KW-KEY-AGE medium %s 100", awstest.FakeKeyID("deploy", 123456789012))}
	if diff := cmp.Diff(want, summary); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestAuditThresholdFlagsReachTheChecks(t *testing.T) {
	stdout, _, code := runAuditCLI(t, fixedReader(testInventory(), nil), "--max-key-age", "60d", "--format", "jsonl")
	if code != ExitFindings || !strings.Contains(stdout, `"check":"KW-KEY-AGE"`) || !strings.Contains(stdout, `"max_age_days":60`) {
		t.Errorf("--max-key-age 60d: exit %d, output:\n%s", code, stdout)
	}
	stdout, _, _ = runAuditCLI(t, fixedReader(testInventory(), nil), "--new-user-days", "500", "--format", "jsonl")
	if !strings.Contains(stdout, `"check":"KW-USER-NEW"`) {
		t.Errorf("--new-user-days 500 did not list the 400-day-old user:\n%s", stdout)
	}
}

func TestAuditStderrTellsReportAgeAndWarnings(t *testing.T) {
	stdout, stderr, _ := runAuditCLI(t, fixedReader(testInventory(), nil))
	for _, want := range []string{
		"credential report generated 2h00m ago (2026-06-01T10:00:00Z)",
		"warning: user deploy: list groups: throttled\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout, "warning") || strings.Contains(stdout, "credential report") {
		t.Errorf("diagnostics reached stdout:\n%s", stdout)
	}
	if !strings.Contains(stdout, "no findings") {
		t.Errorf("text output lacks its summary:\n%s", stdout)
	}
}

func TestAuditAccessDeniedIsExit2WithHint(t *testing.T) {
	denied := fmt.Errorf("read account: %w", &auditaws.AccessDeniedError{Actions: []string{"iam:GenerateCredentialReport"}})
	_, stderr, code := runAuditCLI(t, fixedReader(nil, denied))
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != ExitError || len(lines) != 2 || !strings.HasPrefix(lines[0], "keywarden: audit: read account: access denied") ||
		!strings.Contains(lines[0], "iam:GenerateCredentialReport") || !strings.Contains(lines[1], "hint: docs/iam.md") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestAuditKeysListsTheInventory(t *testing.T) {
	stdout, _, code := runAuditCLI(t, fixedReader(testInventory(), nil), "keys", "--as-of", "+30d", "--format", "json")
	if code != ExitOK {
		t.Fatalf("audit keys exit %d, want 0 even with findings", code)
	}
	var rows []struct {
		User     string   `json:"user"`
		KeyID    string   `json:"key_id"`
		Status   string   `json:"status"`
		AgeDays  int      `json:"age_days"`
		LastUsed string   `json:"last_used"`
		MFA      string   `json:"mfa"`
		Findings []string `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("decode: %v\n%s", err, stdout)
	}
	want := []string{fmt.Sprintf("deploy %s Active 100 2026-05-31T12:00:00Z no [KW-KEY-AGE]", awstest.FakeKeyID("deploy", 123456789012))}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %s %d %s %s %v", r.User, r.KeyID, r.Status, r.AgeDays, r.LastUsed, r.MFA, r.Findings))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestAuditOutputWritesTheFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "audit.sarif")
	stdout, _, code := runAuditCLI(t, fixedReader(testInventory(), nil), "--as-of", "+30d", "--format", "sarif", "-o", out)
	data, err := os.ReadFile(out)
	if err != nil || code != ExitFindings || stdout != "" || !bytes.Contains(data, []byte(`"logicalLocations"`)) {
		t.Errorf("exit %d, stdout %q, file err %v:\n%s", code, stdout, err, data)
	}
}

func TestAuditBadFlagsAreOneLineExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--as-of", "next week"}, `keywarden: parse --as-of "next week": want a date`},
		{[]string{"--format", "yaml"}, `keywarden: --format "yaml": want one of text, json, jsonl, csv, sarif`},
		{[]string{"keys", "--format", "sarif"}, `keywarden: --format "sarif": want one of text, json, jsonl, csv`},
		{[]string{"--fail-on", "severe"}, `keywarden: --fail-on: unknown severity "severe"`},
		{[]string{"--max-key-age", "0d"}, `keywarden: --max-key-age "0d": want a positive whole number`},
		{[]string{"--max-unused", "45m"}, `keywarden: --max-unused "45m": want a positive whole number`},
		{[]string{"--new-user-days", "0"}, `keywarden: --new-user-days 0: want a positive number of days`},
	}
	called := false
	ad := fixedReader(testInventory(), nil)
	ad.read = func(context.Context, awsx.Options, auditaws.Options) (*audit.Inventory, readStats, error) {
		called = true
		return testInventory(), readStats{}, nil
	}
	for _, tt := range tests {
		_, stderr, code := runAuditCLI(t, ad, tt.args...)
		if code != ExitError || !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "keywarden:") != 1 {
			t.Errorf("%v: exit %d, stderr:\n%s", tt.args, code, stderr)
		}
	}
	if called {
		t.Error("a bad flag still read the account")
	}
}

func TestParseSpan(t *testing.T) {
	good := map[string]time.Duration{"90d": 90 * 24 * time.Hour, "90": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour}
	for in, want := range good {
		if got, err := parseSpan("--x", in); err != nil || got != want {
			t.Errorf("parseSpan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-5d", "0", "1.5d", "9999999999999d", "90y"} {
		if _, err := parseSpan("--x", in); err == nil {
			t.Errorf("parseSpan(%q) accepted", in)
		}
	}
}

func TestFormatAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0m", 45 * time.Minute: "45m", 2*time.Hour + 13*time.Minute + 20*time.Second: "2h13m",
		47 * time.Hour: "47h00m", 9*24*time.Hour + 4*time.Hour: "9d04h",
	} {
		if got := formatAge(d); got != want {
			t.Errorf("formatAge(%v) = %q, want %q", d, got, want)
		}
	}
}
