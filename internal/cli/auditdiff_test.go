package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

// diffRows runs `audit --diff prev ARGS --format json` and returns each row
// as "change check user", with the exit status.
func diffRows(t *testing.T, ad auditDeps, prev string, args ...string) ([]string, string, int) {
	t.Helper()
	stdout, stderr, code := runAuditCLI(t, ad, append([]string{"--diff", prev, "--format", "json"}, args...)...)
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("diff output is not json: %v\n%s\nstderr: %s", err, stdout, stderr)
	}
	out := []string{}
	for _, r := range rows {
		res, _ := r["resource"].(string)
		row := r["change"].(string) + " " + r["check"].(string) + " " + res[strings.LastIndex(res, ":")+1:]
		out = append(out, strings.Join(strings.Fields(row), " "))
	}
	slices.Sort(out)
	return out, stderr, code
}

func TestAuditDiffReadsBackItsOwnJSONReport(t *testing.T) {
	// First: ops signs in to the console without MFA.
	first := testInventory()
	ops := audit.User{Name: "ops", ARN: "arn:aws:iam::123456789012:user/ops", Created: daysBefore(300),
		Password: audit.Yes, PasswordLastUsed: daysBefore(2), MFA: audit.No, Admin: audit.No}
	first.Users = append(first.Users, ops)
	prev := filepath.Join(t.TempDir(), "last.json")
	if _, stderr, code := runAuditCLI(t, fixedReader(first, nil), "--format", "json", "-o", prev); code != ExitFindings {
		t.Fatalf("first audit: want exit 1 (ops without MFA), got %d: %s", code, stderr)
	}
	// A month later: ops has MFA, deploy's key is 100 days old, and ci
	// (created 5 days before then) has a key.
	later := testInventory()
	ops.MFA = audit.Yes
	later.Users = append(later.Users, ops)
	ci := audit.User{Name: "ci", ARN: "arn:aws:iam::123456789012:user/ci", Created: daysBefore(-25),
		Password: audit.No, MFA: audit.No, Admin: audit.No,
		Keys: []audit.Key{{Slot: 1, ID: awstest.FakeKeyID("ci", 123456789012), Status: audit.KeyActive,
			Created: daysBefore(-25), LastUsed: daysBefore(-29)}}}
	later.Users = append(later.Users, ci)

	got, _, code := diffRows(t, fixedReader(later, nil), prev, "--as-of", "+30d")
	want := []string{
		"fixed KW-USER-NO-MFA user/ops",
		"new-finding KW-USER-NEW user/ci",
		"new-key user/ci",
		"new-user user/ci",
		"newly-stale KW-KEY-AGE user/deploy",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if code != ExitFindings {
		t.Errorf("a newly stale key: want exit %d, got %d", ExitFindings, code)
	}

	// Judged again the next day against a report holding the stale key,
	// nothing is new: exit 0 although the key still fails.
	stale := filepath.Join(t.TempDir(), "stale.json")
	if _, stderr, _ := runAuditCLI(t, fixedReader(later, nil), "--as-of", "+30d", "--format", "json", "-o", stale); stderr == "" {
		t.Fatal("no stderr from the audit")
	}
	got, _, code = diffRows(t, fixedReader(later, nil), stale, "--as-of", "+31d")
	if len(got) != 0 || code != ExitOK {
		t.Errorf("nothing changed: want no rows and exit 0, got %v, exit %d", got, code)
	}
}

func TestAuditDiffOfAnEmptyReportUsesItsFileTime(t *testing.T) {
	prev := filepath.Join(t.TempDir(), "clean.json")
	if err := os.WriteFile(prev, []byte("[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileTime := auditNow.Add(-10 * 24 * time.Hour)
	if err := os.Chtimes(prev, fileTime, fileTime); err != nil {
		t.Fatal(err)
	}
	inv := testInventory()
	inv.Users[0].Keys[0].Created = daysBefore(3) // created after the clean audit
	got, stderr, _ := diffRows(t, fixedReader(inv, nil), prev)
	if diff := cmp.Diff([]string{"new-key user/deploy"}, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr, "file time, 2026-05-22T12:00:00Z") {
		t.Errorf("stderr does not say the file time stands in:\n%s", stderr)
	}
}

func TestAuditDiffRejectsWhatItCannotCompare(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	if _, stderr, code := runAuditCLI(t, fixedReader(testInventory(), nil), "keys", "--format", "json", "-o", keys); code != ExitOK {
		t.Fatalf("audit keys: exit %d: %s", code, stderr)
	}
	tests := []struct {
		name, want string
		args       []string
	}{
		{"an inventory instead of findings", "want the json of 'keywarden audit'", []string{"--diff", keys}},
		{"a missing file", "no such file", []string{"--diff", filepath.Join(dir, "missing.json")}},
		{"a format with no diff form", `--format "sarif"`, []string{"--diff", keys, "--format", "sarif"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runAuditCLI(t, fixedReader(testInventory(), nil), tt.args...)
			if code != ExitError || !strings.Contains(stderr, tt.want) || stdout != "" {
				t.Errorf("want exit %d, %q on stderr and no stdout; got exit %d, stderr %q, stdout %q", ExitError, tt.want, code, stderr, stdout)
			}
		})
	}
}

func TestAuditHTMLHoldsFindingsAndInventory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "audit.html")
	if _, stderr, code := runAuditCLI(t, fixedReader(testInventory(), nil), "--as-of", "+30d", "--format", "html", "-o", out); code != ExitFindings {
		t.Fatalf("want exit 1 (a stale key), got %d: %s", code, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "account 123456789012", "KW-KEY-AGE", awstest.FakeKeyID("deploy", 123456789012), "<svg"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if _, stderr, code := runAuditCLI(t, fixedReader(testInventory(), nil), "keys", "--format", "html"); code != ExitError || !strings.Contains(stderr, "--format") {
		t.Errorf("audit keys has no html form: want exit 2, got %d: %s", code, stderr)
	}
}

func TestAuditRegionsReachTheReader(t *testing.T) {
	var got []string
	ad := fixedReader(testInventory(), nil)
	read := ad.read
	ad.read = func(ctx context.Context, opts awsx.Options, readOpts auditaws.Options) (*audit.Inventory, readStats, error) {
		got = readOpts.Regions
		return read(ctx, opts, readOpts)
	}
	if _, stderr, code := runAuditCLI(t, ad, "--regions", "eu-west-1,us-east-1"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if diff := cmp.Diff([]string{"eu-west-1", "us-east-1"}, got); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
}
