package report

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/severity"
)

// deployInventory: a well-kept account where deploy's key is 70 days old,
// used yesterday.
func deployInventory() audit.Inventory {
	return kept(audit.Inventory{
		AccountID: "123456789012", ReportGeneratedAt: auditAsOf.Add(-2 * time.Hour),
		Root: &audit.Root{ARN: "arn:aws:iam::123456789012:root", Created: daysAgo(900), MFA: audit.Yes},
		Users: []audit.User{{
			Name: "deploy", ARN: "arn:aws:iam::123456789012:user/deploy", Created: daysAgo(400),
			Password: audit.No, MFA: audit.No, Admin: audit.No, DetailsRead: true,
			Keys: []audit.Key{{Slot: 1, ID: awstest.FakeKeyID("deploy", 123456789012), Status: audit.KeyActive,
				Created: daysAgo(70), LastUsed: daysAgo(1), LastUsedService: "s3", LastUsedRegion: "us-east-1"}},
		}},
		Trails: []audit.Trail{{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", HomeRegion: "us-east-1",
			MultiRegion: true, Logging: audit.Yes, SelectorsKnown: true,
			LogFileValidation: true, KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/trail",
			LogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:trail:*",
			EventSelectors: []audit.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
				DataResources: []audit.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}}},
		TrailsRead: true, RolesRead: true, InstancesRead: true, CustomerPoliciesRead: true, GroupsRead: true, PasswordPolicyRead: true, RootVirtualMFA: audit.No, ServerCertsRead: true,
		SupportRoles: []string{"support"}, SupportRolesRead: true,
		PasswordPolicy: &audit.PasswordPolicy{MinimumLength: 14, RequireUppercase: true, RequireLowercase: true, RequireSymbols: true, RequireNumbers: true, ReusePrevention: 24, MaxAgeDays: 90},
	})
}

// judge judges invs, one account each, at asOf plus days.
func judge(days int, invs ...audit.Inventory) audit.Result {
	var accounts []audit.Account
	for _, inv := range invs {
		accounts = append(accounts, audit.Account{ID: inv.AccountID, Inventory: &inv})
	}
	return audit.Judge(accounts, audit.Options{Config: audit.Config{AsOf: auditAsOf.Add(time.Duration(days) * 24 * time.Hour)}})
}

// auditJSONFile writes the json report of res to a file and returns its path.
func auditJSONFile(t *testing.T, res audit.Result) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.json")
	if err := os.WriteFile(path, renderDoc(t, "json", AuditResultDocument(res), Options{}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rows renders changes as "change check resource", sorted.
func rows(changes []audit.Change) []string {
	out := []string{}
	for _, c := range changes {
		res := c.Finding.Resource
		out = append(out, strings.Join(strings.Fields(string(c.Kind)+" "+c.Finding.Check+" "+res[strings.LastIndex(res, ":")+1:]), " "))
	}
	slices.Sort(out)
	return out
}

// TestDiffOfAReadBackReport: an audit's json report, read back, is what a
// later audit's --diff compares with.
func TestDiffOfAReadBackReport(t *testing.T) {
	// First: ops signs in to the console without MFA.
	first := deployInventory()
	ops := audit.User{Name: "ops", ARN: "arn:aws:iam::123456789012:user/ops", Created: daysAgo(300),
		Password: audit.Yes, PasswordLastUsed: daysAgo(2), MFA: audit.No, Admin: audit.No}
	first.Users = append(first.Users, ops)
	prev, err := ReadAuditFile(auditJSONFile(t, judge(0, first)))
	if err != nil || prev.AsOfIsFileTime || !prev.AsOf.Equal(auditAsOf) {
		t.Fatalf("read back: as_of %v (file time %v), err %v", prev.AsOf, prev.AsOfIsFileTime, err)
	}
	// A month later: ops has MFA, deploy's key is 100 days old, and ci
	// (created 5 days before then) has a key.
	later := deployInventory()
	ops.MFA = audit.Yes
	ci := audit.User{Name: "ci", ARN: "arn:aws:iam::123456789012:user/ci", Created: daysAgo(-25),
		Password: audit.No, MFA: audit.No, Admin: audit.No, DetailsRead: true, Tags: map[string]string{"owner": "ci"},
		Keys: []audit.Key{{Slot: 1, ID: awstest.FakeKeyID("ci", 123456789012), Status: audit.KeyActive,
			Created: daysAgo(-25), LastUsed: daysAgo(-29)}}}
	later.Users = append(later.Users, ops, ci)
	res := judge(30, later)
	changes := audit.Diff(prev, res.Inventories, res.Findings)
	want := []string{
		"fixed KW-USER-NO-MFA user/ops",
		"new-finding KW-USER-NEW user/ci",
		"new-key user/ci",
		"new-user user/ci",
		"newly-stale KW-KEY-AGE user/deploy",
	}
	if diff := cmp.Diff(want, rows(changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !audit.DiffFails(changes, severity.Low) {
		t.Error("a newly stale key must fail --diff")
	}

	// Judged again the next day against a report holding the stale key,
	// nothing is new: no failure although the key still fails.
	stale, err := ReadAuditFile(auditJSONFile(t, res))
	if err != nil {
		t.Fatal(err)
	}
	res = judge(31, later)
	if changes := audit.Diff(stale, res.Inventories, res.Findings); len(changes) != 0 || audit.DiffFails(changes, severity.Low) {
		t.Errorf("nothing changed: want no rows, got %v", rows(changes))
	}
}

func TestReadAuditFileOfAnEmptyReportTakesItsFileTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clean.json")
	if err := os.WriteFile(path, []byte("[]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fileTime := auditAsOf.Add(-10 * 24 * time.Hour)
	if err := os.Chtimes(path, fileTime, fileTime); err != nil {
		t.Fatal(err)
	}
	prev, err := ReadAuditFile(path)
	if err != nil || !prev.AsOf.Equal(fileTime) || !prev.AsOfIsFileTime {
		t.Fatalf("as_of %v (file time: %v), err %v; want %v from the file", prev.AsOf, prev.AsOfIsFileTime, err, fileTime)
	}
	inv := deployInventory()
	inv.Users[0].Keys[0].Created = daysAgo(3) // created after the clean audit
	res := judge(0, inv)
	if diff := cmp.Diff([]string{"new-key user/deploy"}, rows(audit.Diff(prev, res.Inventories, res.Findings))); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestReadAuditFileRejectsWhatItCannotCompare(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	res := judge(0, deployInventory())
	if err := os.WriteFile(keys, renderDoc(t, "json", KeysDocument(res.Inventories, res.Findings, res.AsOf), Options{}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAuditFile(keys); err == nil || !strings.Contains(err.Error(), "read "+keys+": ") ||
		!strings.Contains(err.Error(), "want the json of 'keywarden audit'") {
		t.Errorf("an inventory instead of findings: err %v", err)
	}
	if _, err := ReadAuditFile(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: err %v", err)
	}
}

// TestAuditOfAnOrganization: the summary counts the accounts read, the page
// is titled by the organization, and the inventory lists every account read.
func TestAuditOfAnOrganization(t *testing.T) {
	mgmt, other := deployInventory(), deployInventory()
	other.AccountID = "111122223333"
	other.Users[0].ARN = "arn:aws:iam::111122223333:user/deploy"
	other.Users[0].Keys[0].ID = awstest.FakeKeyID("other", 111122223333)
	accounts := []audit.Account{
		{ID: mgmt.AccountID, Name: "mgmt", Inventory: &mgmt},
		{ID: other.AccountID, Inventory: &other},
		{ID: "444455556666", Err: errors.New("denied")},
	}
	res := audit.Judge(accounts, audit.Options{Config: audit.Config{AsOf: auditAsOf.Add(100 * 24 * time.Hour)}, Org: true, Role: "AuditRole"})
	text := string(renderDoc(t, "text", AuditResultDocument(res), Options{}))
	if !strings.Contains(text, "in 3 accounts; 2 of 3 accounts of the organization read") {
		t.Errorf("summary does not count the accounts:\n%s", text)
	}
	page := AuditPage(res, "1.2.3", auditAsOf)
	keys := string(renderDoc(t, "json", page.Keys, Options{}))
	if page.Title != "keywarden audit — organization" || !strings.Contains(keys, mgmt.Users[0].Keys[0].ID) ||
		!strings.Contains(keys, other.Users[0].Keys[0].ID) {
		t.Errorf("page %q lacks a key of an account read:\n%s", page.Title, keys)
	}
}

func TestAuditPageHoldsFindingsAndInventory(t *testing.T) {
	res := judge(30, deployInventory())
	var buf bytes.Buffer
	if err := WriteAuditHTML(&buf, AuditPage(res, "1.2.3", auditAsOf)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "keywarden audit — account 123456789012", "KW-KEY-AGE",
		awstest.FakeKeyID("deploy", 123456789012), "<svg"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
