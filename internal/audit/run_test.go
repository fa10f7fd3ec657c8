package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRunSortsWorstFirstThenByResourceAndKey(t *testing.T) {
	bob := user("bob", active(1, 400, 0))                         // key age, high
	alice := user("alice", active(1, 60, -1), inactive(2, 5, -1)) // unused medium, inactive low
	inv := account(bob, alice)
	inv.Root.MFA = No // critical
	var got []string
	for _, f := range Run(inv, DefaultConfig(asOf)) {
		got = append(got, f.Severity.String()+" "+f.Check+" "+lastPart(f.Resource))
	}
	want := []string{
		"critical KW-ROOT-MFA root",
		"high KW-KEY-AGE bob",
		"medium KW-KEY-UNUSED alice",
		"low KW-KEY-INACTIVE alice",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Run order (-want +got):\n%s", diff)
	}
}

func TestRunZeroConfigUsesDefaultsAndReportTime(t *testing.T) {
	inv := account(user("alice", active(1, 91, 1)))
	inv.ReportGeneratedAt = asOf
	fs := Run(inv, Config{})
	if len(fs) != 1 || fs[0].Check != "KW-KEY-AGE" || fs[0].Evidence["max_age_days"] != 90 {
		t.Errorf("zero Config must judge at the report time with 90 days: %+v", fs)
	}
}

func TestParsedReportToFindings(t *testing.T) {
	// A report generated 2026-06-01: erin's never-used key is 60 days old,
	// frank's is 2 days old, grace's key was used this morning.
	in := report(
		"<root_account>,arn:aws:iam::123456789012:root,2020-01-04T10:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		"erin,arn:aws:iam::123456789012:user/erin,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-04-02T12:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		"frank,arn:aws:iam::123456789012:user/frank,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-05-30T12:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		"grace,arn:aws:iam::123456789012:user/grace,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-05-01T12:00:00+00:00,2026-06-01T08:00:00+00:00,us-east-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
	)
	inv, err := ParseCredentialReport(strings.NewReader(in), asOf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range inv.Users { // the policy reader has judged them
		inv.Users[i].Admin, inv.Users[i].DetailsRead, inv.Users[i].Tags = No, true, ownerTag()
	}
	// and the other readers found a well-kept account
	kept := account()
	kept.AccountID, kept.ReportGeneratedAt, kept.Root, kept.Users = inv.AccountID, inv.ReportGeneratedAt, inv.Root, inv.Users
	inv = &kept
	got := summary(Run(*inv, DefaultConfig(asOf)))
	want := []string{"KW-KEY-UNUSED medium erin slot=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestFindingJSONMatchesDesign(t *testing.T) {
	inv := account(user("alice", withID(active(1, 143, 1), "old")))
	fs := Run(inv, DefaultConfig(asOf))
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	b, err := json.Marshal(fs[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"check", "title", "severity", "account_id", "resource", "key_id", "evidence", "controls", "remediation"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if m["severity"] != "medium" || m["evidence"].(map[string]any)["age_days"] != float64(143) {
		t.Errorf("JSON %s: want severity medium (under twice the limit) and age_days 143", b)
	}
	if diff := cmp.Diff([]any{"CIS-v3.0-1.14", "CIS-v5.0-1.13", "IAM.3"}, m["controls"]); diff != "" {
		t.Errorf("controls (-want +got):\n%s", diff)
	}
}

func TestChecksHaveStableUniqueIDs(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if !strings.HasPrefix(c.ID, "KW-") || seen[c.ID] || c.Title == "" || c.Controls == nil {
			t.Errorf("bad or duplicate check %+v", c)
		}
		seen[c.ID] = true
	}
	if len(seen) != len(checks) {
		t.Errorf("Checks() lists %d, Run applies %d", len(seen), len(checks))
	}
}

func TestParseAsOf(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC)
	good := []struct{ in, want string }{
		{"", "2026-06-01T12:30:00Z"},
		{"+30d", "2026-07-01T12:30:00Z"},
		{"-2w", "2026-05-18T12:30:00Z"},
		{"+12h", "2026-06-02T00:30:00Z"},
		{"+0d", "2026-06-01T12:30:00Z"},
		{"2027-01-01", "2027-01-01T00:00:00Z"},
		{" 2027-01-01T09:00:00+02:00 ", "2027-01-01T07:00:00Z"},
	}
	for _, tt := range good {
		got, err := ParseAsOf(tt.in, now)
		if err != nil || got.UTC().Format(time.RFC3339) != tt.want {
			t.Errorf("ParseAsOf(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"30d", "+30x", "+d", "+-3d", "+1.5d", "+99999999999999999d", "+9223372036854775807h", "tomorrow", "2027-13-01"} {
		if got, err := ParseAsOf(in, now); err == nil || !strings.Contains(err.Error(), "--as-of") {
			t.Errorf("ParseAsOf(%q) = %v, %v; want an error naming --as-of", in, got, err)
		}
	}
}
