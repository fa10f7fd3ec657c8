package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type checkCase struct {
	name string
	inv  Inventory
	cfg  *Config // nil: DefaultConfig(asOf)
	want []string
}

func runCases(t *testing.T, fn func(Inventory, Config) []Finding, cases []checkCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig(asOf)
			if tt.cfg != nil {
				cfg = *tt.cfg
			}
			got := fn(tt.inv, cfg)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, summary(got)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range got {
				if f.Evidence["verdict"] != "unknown" && f.Remediation == "" {
					t.Errorf("%s on %s has no remediation", f.Check, f.Resource)
				}
			}
		})
	}
}

func TestCheckTwoActiveKeys(t *testing.T) {
	unknownStatus := active(2, 10, 1)
	unknownStatus.Status = KeyStatusUnknown
	runCases(t, checkTwoActiveKeys, []checkCase{
		{"two active keys fail once per user", account(user("alice", active(1, 10, 1), active(2, 20, 3))),
			nil, []string{"KW-KEY-TWO-ACTIVE medium alice"}},
		{"an inactive second key is not two active keys", account(user("alice", active(1, 10, 1), inactive(2, 200, -1))), nil, nil},
		{"one active key passes", account(user("alice", active(1, 10, 1))), nil, nil},
		{"no keys pass", account(user("alice")), nil, nil},
		{"active plus unknown status is unknown", account(user("alice", active(1, 10, 1), unknownStatus)),
			nil, []string{"KW-KEY-TWO-ACTIVE low alice unknown"}},
	})
}

func TestCheckTwoActiveKeysSuggestsTheStalerKey(t *testing.T) {
	used := withID(active(1, 100, 1), "used")
	neverUsed := withID(active(2, 10, -1), "idle")
	fs := checkTwoActiveKeys(account(user("alice", used, neverUsed)), DefaultConfig(asOf))
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	want := "aws iam update-access-key --user-name alice --access-key-id " + neverUsed.ID + " --status Inactive"
	if !strings.Contains(fs[0].Remediation, want) || fs[0].Evidence["suggest_deactivate"] != neverUsed.ID {
		t.Errorf("remediation %q / evidence %v: want to deactivate the never-used key: %q", fs[0].Remediation, fs[0].Evidence, want)
	}
}

func TestCheckKeyAge(t *testing.T) {
	noCreated := active(1, 0, 1)
	noCreated.Created = Date{}
	in30 := DefaultConfig(asOf.Add(30 * day))
	short := DefaultConfig(asOf)
	short.MaxKeyAge = 30 * day
	runCases(t, checkKeyAge, []checkCase{
		{"91 days old fails", account(user("alice", active(1, 91, 1))), nil, []string{"KW-KEY-AGE medium alice slot=1"}},
		{"exactly 90 days passes", account(user("alice", active(1, 90, 1))), nil, nil},
		{"older than twice the limit is high", account(user("alice", active(1, 200, 1))), nil, []string{"KW-KEY-AGE high alice slot=1"}},
		{"an old inactive key is not judged", account(user("alice", inactive(1, 500, 400))), nil, nil},
		{"each old key is its own finding", account(user("alice", active(1, 100, 1), active(2, 95, 1))), nil,
			[]string{"KW-KEY-AGE medium alice slot=1", "KW-KEY-AGE medium alice slot=2"}},
		{"unknown creation is unknown", account(user("alice", noCreated)), nil, []string{"KW-KEY-AGE low alice slot=1 unknown"}},
		{"--as-of +30d ages a 70-day key past the limit", account(user("alice", active(1, 70, 1))), &in30,
			[]string{"KW-KEY-AGE medium alice slot=1"}},
		{"a shorter MaxKeyAge applies", account(user("alice", active(1, 31, 1))), &short, []string{"KW-KEY-AGE medium alice slot=1"}},
	})
}

func TestCheckKeyUnused(t *testing.T) {
	unknownUse := active(1, 100, 0)
	unknownUse.LastUsed = Date{}
	neverNoCreated := active(1, 0, -1)
	neverNoCreated.Created = Date{}
	runCases(t, checkKeyUnused, []checkCase{
		{"a key used today is not unused", account(user("alice", active(1, 300, 0))), nil, nil},
		{"used 44 days ago passes", account(user("alice", active(1, 300, 44))), nil, nil},
		{"used 45 days ago fails", account(user("alice", active(1, 300, 45))), nil, []string{"KW-KEY-UNUSED medium alice slot=1"}},
		{"never used and 60 days old fails", account(user("alice", active(1, 60, -1))), nil, []string{"KW-KEY-UNUSED medium alice slot=1"}},
		{"never used and 2 days old passes", account(user("alice", active(1, 2, -1))), nil, nil},
		{"unknown last use is unknown, not a pass", account(user("alice", unknownUse)), nil,
			[]string{"KW-KEY-UNUSED low alice slot=1 unknown"}},
		{"never used with unknown creation is unknown", account(user("alice", neverNoCreated)), nil,
			[]string{"KW-KEY-UNUSED low alice slot=1 unknown"}},
		{"an unused inactive key is left to KW-KEY-INACTIVE", account(user("alice", inactive(1, 300, 200))), nil, nil},
	})
}

func TestCheckKeyUnusedEvidence(t *testing.T) {
	k := withID(active(1, 60, -1), "idle")
	fs := checkKeyUnused(account(user("alice", k)), DefaultConfig(asOf))
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	f := fs[0]
	if f.KeyID != k.ID || f.Evidence["unused_days"] != 60 || f.Evidence["unused_since"] != "created (never used)" ||
		f.Evidence["last_used"] != "never" || f.Evidence["report_generated_at"] != "2026-06-01T10:00:00Z" {
		t.Errorf("finding %+v: want key id, 60 unused days since creation, report time", f)
	}
	if want := "aws iam update-access-key --user-name alice --access-key-id " + k.ID + " --status Inactive"; !strings.Contains(f.Remediation, want) {
		t.Errorf("remediation %q lacks %q", f.Remediation, want)
	}
}

func TestCheckInactiveKeys(t *testing.T) {
	runCases(t, checkInactiveKeys, []checkCase{
		{"an inactive key should be deleted", account(user("alice", active(1, 10, 1), inactive(2, 100, 50))), nil,
			[]string{"KW-KEY-INACTIVE low alice slot=2"}},
		{"active keys are not reported", account(user("alice", active(1, 10, 1))), nil, nil},
	})
	fs := checkInactiveKeys(account(user("alice", inactive(2, 100, 50))), DefaultConfig(asOf))
	want := "aws iam list-access-keys --user-name alice"
	if len(fs) != 1 || !strings.Contains(fs[0].Remediation, want) || !strings.Contains(fs[0].Remediation, "aws iam delete-access-key --user-name alice --access-key-id <ACCESS_KEY_ID>") {
		t.Errorf("without a key id the remediation must say how to find it (%q): %+v", want, fs)
	}
}

func TestCheckSetupKeys(t *testing.T) {
	console := func(keyAfter time.Duration, used int, pw Tri) Inventory {
		u := user("carol")
		u.Password, u.MFA = pw, Yes
		k := active(1, 0, used)
		k.Created = At(u.Created.Time.Add(keyAfter))
		u.Keys = []Key{k}
		return account(u)
	}
	runCases(t, checkSetupKeys, []checkCase{
		{"key created two minutes after a console user and never used fails", console(2*time.Minute, -1, Yes), nil,
			[]string{"KW-KEY-AT-SETUP medium carol slot=1"}},
		{"a setup key that was used passes", console(2*time.Minute, 3, Yes), nil, nil},
		{"a key created days later passes", console(72*time.Hour, -1, Yes), nil, nil},
		{"a user without console password passes", console(time.Minute, -1, No), nil, nil},
		{"unknown console password is unknown", console(time.Minute, -1, Unknown), nil,
			[]string{"KW-KEY-AT-SETUP low carol slot=1 unknown"}},
	})
}

// KW-KEY-RETIRABLE: a key retire plan classified (Judge fills the class
// from Options.RetireClass) fails with its class; mixed, never classified
// and inactive keys pass; a note says how many keys were never classified.
func TestCheckRetirable(t *testing.T) {
	gh, mixed, never := withID(active(1, 10, 1), "gh"), withID(active(2, 10, 1), "mixed"), withID(active(1, 10, 1), "never")
	old := withID(inactive(1, 10, 1), "old")
	classes := map[string]string{gh.ID: "github", mixed.ID: "mixed", old.ID: "person"}
	opts := Options{Config: DefaultConfig(asOf), RetireClass: func(account, id string) (string, bool) {
		c, ok := classes[id]
		return c, ok && account == testAccount
	}}
	inv := account(user("ci", gh, mixed), user("bob", never), user("gone", old))
	res := Judge([]Account{{ID: testAccount, Inventory: &inv}}, opts)
	var got []Finding
	for _, f := range res.Findings {
		if f.Check == retirableInfo.ID {
			got = append(got, f)
		}
	}
	if len(got) != 1 || got[0].KeyID != gh.ID || got[0].Evidence["retire_class"] != "github" || !strings.Contains(got[0].Remediation, "keywarden retire plan --key "+gh.ID) {
		t.Fatalf("KW-KEY-RETIRABLE findings %+v, want the GitHub key's alone", got)
	}
	if inv.Users[0].Keys[0].RetireClass != "" {
		t.Error("Judge wrote the class into the caller's inventory")
	}
	if k := res.Inventories[0].Users[0].Keys[0]; k.RetireClass != "github" {
		t.Errorf("the judged inventory's key has class %q, want github (the inventory's retire column)", k.RetireClass)
	}
	noted := false
	for _, n := range res.Notes {
		noted = noted || strings.Contains(n.Text, "1 active key never classified by retire plan")
	}
	if !noted {
		t.Errorf("notes %+v: want one about the never-classified key", res.Notes)
	}
}
