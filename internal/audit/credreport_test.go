package audit

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reportHeader is the credential report's header as AWS documents it.
const reportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed," +
	"password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date," +
	"access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated," +
	"access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active," +
	"cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

var generated = time.Date(2026, 5, 31, 22, 0, 0, 0, time.UTC)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func report(rows ...string) string {
	return reportHeader + "\n" + strings.Join(rows, "\n") + "\n"
}

func TestParseCredentialReportReadsEveryValueKind(t *testing.T) {
	in := report(
		// Root: password_enabled not_supported, one inactive key, MFA on.
		"<root_account>,arn:aws:iam::123456789012:root,2020-01-04T10:00:00+00:00,not_supported,2026-05-01T08:00:00+00:00,not_supported,not_supported,true,false,2021-03-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		// alice: console + MFA; key 1 active and used, key 2 inactive and never used.
		"alice,arn:aws:iam::123456789012:user/alice,2024-01-10T09:00:00+00:00,true,2026-05-30T12:00:00+00:00,2024-01-10T09:01:00+00:00,N/A,true,true,2025-12-01T00:00:00+00:00,2026-05-31T07:15:00+00:00,eu-west-1,s3,false,2024-01-10T09:02:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A",
		// bob: no password, password never used since tracking, no keys.
		"bob,arn:aws:iam::123456789012:user/bob,2023-06-01T00:00:00+00:00,false,no_information,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		// carol: unreadable values become unknown, with warnings.
		"carol,arn:aws:iam::123456789012:user/carol,yesterday,maybe,N/A,N/A,N/A,TRUE,true,N/A,not-a-date,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
	)
	got, err := ParseCredentialReport(strings.NewReader(in), generated)
	if err != nil {
		t.Fatal(err)
	}
	want := &Inventory{
		AccountID:         "123456789012",
		ReportGeneratedAt: generated,
		Root: &Root{
			ARN: "arn:aws:iam::123456789012:root", Created: At(mustTime(t, "2020-01-04T10:00:00Z")),
			PasswordLastUsed: At(mustTime(t, "2026-05-01T08:00:00Z")), MFA: Yes,
			Keys: []Key{{Slot: 1, Status: KeyInactive, Created: At(mustTime(t, "2021-03-01T00:00:00Z")), LastUsed: Never()}},
		},
		Users: []User{
			{
				Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice", Created: At(mustTime(t, "2024-01-10T09:00:00Z")),
				Password: Yes, PasswordLastUsed: At(mustTime(t, "2026-05-30T12:00:00Z")),
				PasswordLastChanged: At(mustTime(t, "2024-01-10T09:01:00Z")), MFA: Yes,
				Keys: []Key{
					{Slot: 1, Status: KeyActive, Created: At(mustTime(t, "2025-12-01T00:00:00Z")),
						LastUsed: At(mustTime(t, "2026-05-31T07:15:00Z")), LastUsedService: "s3", LastUsedRegion: "eu-west-1"},
					{Slot: 2, Status: KeyInactive, Created: At(mustTime(t, "2024-01-10T09:02:00Z")), LastUsed: Never()},
				},
			},
			{
				Name: "bob", ARN: "arn:aws:iam::123456789012:user/bob", Created: At(mustTime(t, "2023-06-01T00:00:00Z")),
				Password: No, PasswordLastChanged: Never(), MFA: No,
			},
			{
				// An active key whose creation reads N/A is unknown, not absent.
				Name: "carol", ARN: "arn:aws:iam::123456789012:user/carol", Password: Unknown,
				PasswordLastUsed: Never(), PasswordLastChanged: Never(), MFA: Yes,
				Keys: []Key{{Slot: 1, Status: KeyActive}},
			},
		},
		Warnings: []string{
			`credential report line 5 (carol): user_creation_time: unreadable value "yesterday"`,
			`credential report line 5 (carol): password_enabled: unreadable value "maybe"`,
			`credential report line 5 (carol): access_key_1_last_used_date: unreadable value "not-a-date"`,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inventory (-want +got):\n%s", diff)
	}
}

func TestParseCredentialReportFindsColumnsByName(t *testing.T) {
	// Columns reordered, one capitalised, an unknown column added, optional ones dropped.
	in := "arn,User,extra,mfa_active,password_enabled,user_creation_time," +
		"access_key_2_active,access_key_2_last_rotated,access_key_1_active,access_key_1_last_rotated\n" +
		"arn:aws:iam::123456789012:user/dave,dave,x,false,true,2026-05-01T00:00:00Z,true,2026-05-02T00:00:00Z,false,N/A\n"
	got, err := ParseCredentialReport(strings.NewReader("\ufeff"+in), generated)
	if err != nil {
		t.Fatal(err)
	}
	want := []User{{
		Name: "dave", ARN: "arn:aws:iam::123456789012:user/dave", Created: At(mustTime(t, "2026-05-01T00:00:00Z")),
		Password: Yes, MFA: No,
		Keys: []Key{{Slot: 2, Status: KeyActive, Created: At(mustTime(t, "2026-05-02T00:00:00Z"))}},
	}}
	if diff := cmp.Diff(want, got.Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if got.Root != nil {
		t.Errorf("no <root_account> row, but Root = %+v", got.Root)
	}
}

func TestParseCredentialReportHeaderOnlyIsAnEmptyAccount(t *testing.T) {
	got, err := ParseCredentialReport(strings.NewReader(reportHeader+"\n"), generated)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 0 || got.Root != nil || !got.ReportGeneratedAt.Equal(generated) {
		t.Errorf("got %+v, want no users, no root, generated-at kept", got)
	}
}

func TestParseCredentialReportRejectsWhatIsNotAReport(t *testing.T) {
	valid := "alice,arn:aws:iam::123456789012:user/alice,2024-01-10T09:00:00+00:00,true,N/A,N/A,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	tests := []struct {
		name, in, wantMsg string
	}{
		{"empty", "", "empty"},
		{"missing column", "user,arn\nalice,arn:aws:iam::123456789012:user/alice\n", `missing column "user_creation_time"`},
		{"truncated row", report(valid, valid[:60]), "line 3"},
		{"garbled quotes", report(valid, `bob,"arn:aws"x,2024`), "line 3"},
		{"not csv at all", "\x00\x01\x02 binary junk", "missing column"},
		{"html error page", "<html><body>Access denied</body></html>\n", "missing column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := ParseCredentialReport(strings.NewReader(tt.in), generated)
			if err == nil {
				t.Fatalf("want an error, got inventory %+v", inv)
			}
			if !errors.Is(err, ErrCredentialReport) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q: want ErrCredentialReport mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseCredentialReportWarnsOnForeignAccountAndSecondRoot(t *testing.T) {
	root := "<root_account>,arn:aws:iam::123456789012:root,2020-01-04T10:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	other := "eve,arn:aws:iam::210987654321:user/eve,2024-01-10T09:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
	got, err := ParseCredentialReport(strings.NewReader(report(root, other, root)), generated)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != "123456789012" || got.Root == nil || got.Root.MFA != No {
		t.Errorf("account %q root %+v: want the first root row of 123456789012", got.AccountID, got.Root)
	}
	want := []string{
		"credential report line 3 (eve): arn names account 210987654321, not 123456789012",
		"credential report line 4: a second <root_account> row; keeping the first",
	}
	if diff := cmp.Diff(want, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestReportAge(t *testing.T) {
	inv := Inventory{ReportGeneratedAt: generated}
	if got := inv.ReportAge(generated.Add(3 * time.Hour)); got != 3*time.Hour {
		t.Errorf("ReportAge = %v, want 3h", got)
	}
	if got := (Inventory{}).ReportAge(generated); got != 0 {
		t.Errorf("no report: ReportAge = %v, want 0", got)
	}
}

func FuzzParseCredentialReport(f *testing.F) {
	f.Add(report("<root_account>,arn:aws:iam::123456789012:root,2020-01-04T10:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,true,2021-03-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"))
	f.Add(report("alice,arn:aws:iam::123456789012:user/alice,2024-01-10T09:00:00+00:00,true,no_information,N/A,N/A,false,true,2024-01-10T09:01:00+00:00,N/A,N/A,N/A,true,garbage,2026-01-01T00:00:00Z,us-east-1,iam,false,N/A,false,N/A"))
	f.Add("")
	f.Add("user,arn\n\"unterminated")
	f.Fuzz(func(t *testing.T, in string) {
		inv, err := ParseCredentialReport(strings.NewReader(in), generated)
		if err != nil {
			if !errors.Is(err, ErrCredentialReport) {
				t.Fatalf("error %v does not wrap ErrCredentialReport", err)
			}
			return
		}
		for _, u := range inv.Users {
			if len(u.Keys) > 2 {
				t.Fatalf("user %q has %d keys; the report has two slots", u.Name, len(u.Keys))
			}
		}
		// Whatever the parser accepts, the checks must judge without panicking.
		for _, f := range Run(*inv, DefaultConfig(generated)) {
			if f.Check == "" || f.Evidence == nil {
				t.Fatalf("malformed finding %+v", f)
			}
		}
	})
}
