package audit

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/severity"
)

// deployAccount: a well-kept account where deploy's key is 70 days old and
// was used yesterday, and the reader left a warning.
func deployAccount() Inventory {
	inv := account(user("deploy", withID(active(1, 70, 1), "deploy")))
	inv.Warnings = []string{"user deploy: list groups: throttled"}
	return inv
}

func judgeAt(t time.Time, cfg Config, accounts ...Account) Result {
	cfg.AsOf = t
	return Judge(accounts, Options{Config: cfg})
}

func one(inv Inventory) Account {
	return Account{ID: inv.AccountID, Inventory: &inv, ReportAge: 2 * time.Hour}
}

func TestJudgeAgesAtAsOfAndFailsAtTheThreshold(t *testing.T) {
	tests := []struct {
		name  string
		at    time.Time
		level severity.Level
		fails bool
	}{
		{"nothing to find now", asOf, severity.Low, false},
		{"a medium finding in 30 days fails at low", asOf.Add(30 * day), severity.Low, true},
		{"and at medium", asOf.Add(30 * day), severity.Medium, true},
		{"not at high", asOf.Add(30 * day), severity.High, false},
		{"twice the age limit is high", asOf.Add(120 * day), severity.High, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := judgeAt(tt.at, Config{}, one(deployAccount()))
			if got := Fails(res.Findings, tt.level); got != tt.fails {
				t.Errorf("Fails(%s) = %v, want %v; findings %v", tt.level, got, tt.fails, summary(res.Findings))
			}
		})
	}
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	res := judgeAt(at, Config{}, one(deployAccount()))
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s %s %s %v %s", f.Check, f.Severity, f.KeyID, f.Evidence["age_days"], f.AsOf.Format(time.RFC3339)))
	}
	want := []string{fmt.Sprintf("KW-KEY-AGE medium %s 100 2026-07-01T12:00:00Z", deployAccount().Users[0].Keys[0].ID)}
	if diff := cmp.Diff(want, got); diff != "" || !res.AsOf.Equal(at) {
		t.Errorf("judged at %v (-want +got):\n%s", res.AsOf, diff)
	}
}

func TestJudgeAppliesTheThresholds(t *testing.T) {
	res := judgeAt(asOf, Config{MaxKeyAge: 60 * day}, one(deployAccount()))
	if len(res.Findings) != 1 || res.Findings[0].Check != "KW-KEY-AGE" || res.Findings[0].Evidence["max_age_days"] != 60 {
		t.Errorf("MaxKeyAge 60d: %v", summary(res.Findings))
	}
	if res := judgeAt(asOf, Config{NewUser: 500 * day}, one(deployAccount())); !strings.Contains(fmt.Sprint(summary(res.Findings)), "KW-USER-NEW") {
		t.Errorf("NewUser 500d did not list the 400-day-old user: %v", summary(res.Findings))
	}
}

func TestJudgeNotesTheReportAgeAndWarnings(t *testing.T) {
	res := judgeAt(asOf, Config{}, one(deployAccount()))
	want := []Note{
		{NoteInfo, "", "credential report generated 2h00m ago (2026-06-01T10:00:00Z); AWS refreshes it at most every 4 hours"},
		{NoteWarning, "", "user deploy: list groups: throttled"},
	}
	if diff := cmp.Diff(want, res.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	inv := deployAccount()
	inv.ReportGeneratedAt, inv.Warnings = time.Time{}, nil
	res = judgeAt(asOf, Config{}, one(inv))
	want = []Note{{NoteWarning, "", "no credential report: facts it gives (root user, MFA, last use) are unknown"}}
	if diff := cmp.Diff(want, res.Notes); diff != "" {
		t.Errorf("notes without a report (-want +got):\n%s", diff)
	}
}

// TestJudgeOrganizationReportsUnreadAccounts: one account read, one not.
// The unread one is a high finding and an error note; the read one is still
// judged, its notes naming it.
func TestJudgeOrganizationReportsUnreadAccounts(t *testing.T) {
	const unread = "210987654321"
	mgmt := deployAccount()
	at := asOf.Add(100 * day) // deploy's key is then too old and unused
	accounts := []Account{
		{ID: testAccount, Name: "mgmt", Inventory: &mgmt, ReportAge: time.Hour},
		{ID: unread, Name: "prod", Err: errors.New("assume role arn:aws:iam::210987654321:role/AuditRole (sts:AssumeRole):\n AccessDenied")},
	}
	res := Judge(accounts, Options{Config: Config{AsOf: at}, Org: true, Role: "AuditRole"})
	if res.Accounts != 2 || res.Unread != 1 || len(res.Inventories) != 1 || !res.Org {
		t.Errorf("accounts %d, unread %d, inventories %d, org %v; want 2, 1, 1, true", res.Accounts, res.Unread, len(res.Inventories), res.Org)
	}
	want := []string{"KW-ORG-ACCOUNT-UNREAD high root", "KW-CRED-UNUSED-90 medium deploy", "KW-KEY-AGE medium deploy", "KW-KEY-UNUSED medium deploy"}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s %s %s", f.Check, f.Severity, lastPart(f.Resource)))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings, worst first (-want +got):\n%s", diff)
	}
	f := res.Findings[0]
	if f.AccountID != unread || f.Resource != "arn:aws:iam::"+unread+":root" || !f.AsOf.Equal(at) ||
		f.Evidence["error"] != "assume role arn:aws:iam::210987654321:role/AuditRole (sts:AssumeRole): AccessDenied" ||
		f.Evidence["account_name"] != "prod" || !strings.Contains(f.Remediation, "AuditRole") {
		t.Errorf("unread finding = %+v", f)
	}
	var notes []string
	for _, n := range res.Notes {
		notes = append(notes, fmt.Sprintf("%d %s", n.Kind, n))
	}
	wantNotes := []string{
		fmt.Sprintf("%d account 123456789012 (mgmt): credential report generated 1h00m ago (2026-06-01T10:00:00Z); AWS refreshes it at most every 4 hours", NoteInfo),
		fmt.Sprintf("%d account 123456789012 (mgmt): user deploy: list groups: throttled", NoteWarning),
		fmt.Sprintf("%d account 210987654321 (prod): not audited: assume role arn:aws:iam::210987654321:role/AuditRole (sts:AssumeRole): AccessDenied", NoteError),
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// TestJudgeListsWhatCouldNotBeRead: an account not audited and the reads
// an inventory says failed are the result's Incomplete, each in its
// account; the warnings about what AWS itself does not know are not.
func TestJudgeListsWhatCouldNotBeRead(t *testing.T) {
	const unread = "210987654321"
	mgmt := deployAccount()
	mgmt.Unread = []Gap{{Source: "region eu-west-1", Reason: "ec2:DescribeInstances denied: instance profiles of EC2 instances unknown"}}
	accounts := []Account{
		{ID: testAccount, Name: "mgmt", Inventory: &mgmt},
		{ID: unread, Name: "prod", Err: errors.New("assume role: AccessDenied")},
	}
	res := Judge(accounts, Options{Config: Config{AsOf: asOf}, Org: true})
	want := []Gap{
		{Account: testAccount, Source: "region eu-west-1", Reason: "ec2:DescribeInstances denied: instance profiles of EC2 instances unknown"},
		{Account: unread, Source: "account 210987654321 (prod)", Reason: "not audited: assume role: AccessDenied"},
	}
	if diff := cmp.Diff(want, res.Incomplete); diff != "" {
		t.Errorf("incomplete (-want +got):\n%s", diff)
	}
	if res := judgeAt(asOf, Config{}, one(deployAccount())); len(res.Incomplete) != 0 {
		t.Errorf("a warning alone made the audit incomplete: %v", res.Incomplete)
	}
}

func TestAccountLabel(t *testing.T) {
	if got := (Account{ID: testAccount}).Label(); got != testAccount {
		t.Errorf("Label() = %q", got)
	}
	if got := (Account{ID: testAccount, Name: "prod"}).Label(); got != testAccount+" (prod)" {
		t.Errorf("Label() = %q", got)
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

// TestJudgeLeavesCanaryUsersOut: a canary's old unused key is no finding,
// an ordinary user's of the same age is, and the canary is named; a user
// of the canary's name in another account is judged.
func TestJudgeLeavesCanaryUsersOut(t *testing.T) {
	inv := account(user("svc-cache", withID(active(1, 400, -1), "canary")), user("deploy", withID(active(1, 400, -1), "deploy")))
	isCanary := func(account, name string) bool { return account == testAccount && name == "svc-cache" }
	res := Judge([]Account{one(inv)}, Options{Config: Config{AsOf: asOf}, Canary: isCanary})
	byUser := map[string]int{}
	for _, f := range res.Findings {
		byUser[f.Resource]++
	}
	if byUser[inv.Users[0].ARN] != 0 || byUser[inv.Users[1].ARN] == 0 {
		t.Errorf("findings by user %v; want deploy's, none of the canary's", byUser)
	}
	if len(res.Canaries) != 1 || res.Canaries[0] != testAccount+"/svc-cache" || len(res.Inventories[0].Users) != 1 {
		t.Errorf("canaries %v, users judged %d", res.Canaries, len(res.Inventories[0].Users))
	}
	noted := false
	for _, n := range res.Notes {
		noted = noted || strings.Contains(n.Text, "1 user recognised as a canary (keywarden canary) and not judged: svc-cache")
	}
	if !noted {
		t.Errorf("no note names the canary: %v", res.Notes)
	}
	elsewhere := func(account, name string) bool { return account == "210987654321" && name == "svc-cache" }
	res = Judge([]Account{one(inv)}, Options{Config: Config{AsOf: asOf}, Canary: elsewhere})
	if len(res.Canaries) != 0 {
		t.Errorf("a canary of another account: %v left out", res.Canaries)
	}
}
