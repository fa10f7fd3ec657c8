package audit

import (
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/severity"
)

func consoleUser(name string, mfa Tri) User {
	u := user(name)
	u.Password, u.MFA = Yes, mfa
	return u
}

func TestCheckConsoleMFA(t *testing.T) {
	noPwUnknownMFA := user("svc")
	noPwUnknownMFA.MFA = Unknown
	runCases(t, checkConsoleMFA, []checkCase{
		{"console password without MFA fails", account(consoleUser("dan", No)), nil, []string{"KW-USER-NO-MFA medium dan"}},
		{"console password with MFA passes", account(consoleUser("dan", Yes)), nil, nil},
		{"no console password passes whatever the MFA", account(noPwUnknownMFA), nil, nil},
		{"unknown MFA is unknown", account(consoleUser("dan", Unknown)), nil, []string{"KW-USER-NO-MFA low dan unknown"}},
	})
	fs := checkConsoleMFA(account(consoleUser("dan", No)), DefaultConfig(asOf))
	want := "--serial-number arn:aws:iam::123456789012:mfa/dan"
	if len(fs) != 1 || !strings.Contains(fs[0].Remediation, want) || !strings.Contains(fs[0].Remediation, "aws iam delete-login-profile --user-name dan") {
		t.Errorf("remediation must enable MFA for dan (%q) or drop the password: %+v", want, fs)
	}
}

func TestCheckAdminKeys(t *testing.T) {
	admin := func(mfa, isAdmin Tri, keys ...Key) Inventory {
		u := user("root-ish", keys...)
		u.MFA, u.Admin = mfa, isAdmin
		return account(u)
	}
	runCases(t, checkAdminKeys, []checkCase{
		{"admin with an active key is high", admin(Yes, Yes, active(1, 10, 1)), nil, []string{"KW-KEY-ADMIN high root-ish slot=1"}},
		{"admin without MFA is critical", admin(No, Yes, active(1, 10, 1)), nil, []string{"KW-KEY-ADMIN critical root-ish slot=1"}},
		{"one finding per active key", admin(Yes, Yes, active(1, 10, 1), active(2, 10, 1)), nil,
			[]string{"KW-KEY-ADMIN high root-ish slot=1", "KW-KEY-ADMIN high root-ish slot=2"}},
		{"admin with only an inactive key passes", admin(No, Yes, inactive(1, 10, 1)), nil, nil},
		{"non-admin passes", admin(No, No, active(1, 10, 1)), nil, nil},
		{"unjudged rights are unknown", admin(Yes, Unknown, active(1, 10, 1)), nil, []string{"KW-KEY-ADMIN low root-ish slot=1 unknown"}},
	})
}

func TestCheckDangerousKeys(t *testing.T) {
	risky := func(isAdmin Tri, rights []string, keys ...Key) Inventory {
		u := user("ci", keys...)
		u.Admin, u.Dangerous, u.Groups = isAdmin, rights, []string{"deployers"}
		return account(u)
	}
	rights := []string{"iam:PassRole", "iam:CreateAccessKey", "iam:PassRole"}
	runCases(t, checkDangerousKeys, []checkCase{
		{"dangerous rights are summarised per key", risky(No, rights, active(1, 10, 1), active(2, 10, 1)), nil,
			[]string{"KW-KEY-DANGEROUS medium ci slot=1", "KW-KEY-DANGEROUS medium ci slot=2"}},
		{"administrators are left to KW-KEY-ADMIN", risky(Yes, rights, active(1, 10, 1)), nil, nil},
		{"no dangerous rights pass", risky(No, nil, active(1, 10, 1)), nil, nil},
		{"inactive keys are not summarised", risky(No, rights, inactive(1, 10, 1)), nil, nil},
	})
	fs := checkDangerousKeys(risky(No, rights, active(1, 10, 1)), DefaultConfig(asOf))
	if len(fs) != 1 || fs[0].Evidence["summary"] != "iam:CreateAccessKey, iam:PassRole" {
		t.Errorf("want the sorted, de-duplicated rights in evidence: %+v", fs)
	}
}

func TestCheckNewUsers(t *testing.T) {
	fresh := user("newbie", active(1, 5, 1))
	fresh.Created = ago(5)
	old := user("veteran")
	noDate := user("mystery")
	noDate.Created = Date{}
	runCases(t, checkNewUsers, []checkCase{
		{"a user created 5 days ago is listed", account(fresh), nil, []string{"KW-USER-NEW info newbie"}},
		{"an old user is not", account(old), nil, nil},
		{"unknown creation is listed as unknown", account(noDate), nil, []string{"KW-USER-NEW info mystery unknown"}},
	})
}

func TestCheckRootKeys(t *testing.T) {
	withRootKeys := func(keys ...Key) Inventory {
		inv := account()
		inv.Root.Keys = keys
		return inv
	}
	noRoot := account()
	noRoot.Root = nil
	runCases(t, checkRootKeys, []checkCase{
		{"no root key passes", account(), nil, nil},
		{"an active root key is critical", withRootKeys(active(1, 300, 2)), nil, []string{"KW-ROOT-KEY critical root slot=1"}},
		{"an inactive root key still fails, lower", withRootKeys(inactive(1, 300, -1)), nil, []string{"KW-ROOT-KEY high root slot=1"}},
		{"one finding per root key", withRootKeys(active(1, 300, 2), inactive(2, 30, -1)), nil,
			[]string{"KW-ROOT-KEY critical root slot=1", "KW-ROOT-KEY high root slot=2"}},
		{"a missing root row is unknown", noRoot, nil, []string{"KW-ROOT-KEY low root unknown"}},
	})
}

func TestCheckRootMFA(t *testing.T) {
	rootMFA := func(m Tri) Inventory {
		inv := account()
		inv.Root.MFA = m
		return inv
	}
	runCases(t, checkRootMFA, []checkCase{
		{"root with MFA passes", rootMFA(Yes), nil, nil},
		{"root without MFA is critical", rootMFA(No), nil, []string{"KW-ROOT-MFA critical root"}},
		{"unknown root MFA is unknown", rootMFA(Unknown), nil, []string{"KW-ROOT-MFA low root unknown"}},
	})
}

func TestRemediationQuotesHostileNames(t *testing.T) {
	u := user("o'brien; rm -rf ~", inactive(1, 10, -1))
	fs := checkInactiveKeys(account(u), DefaultConfig(asOf))
	if len(fs) != 1 || !strings.Contains(fs[0].Remediation, `--user-name 'o'\''brien; rm -rf ~'`) {
		t.Errorf("the user name must reach the shell as one quoted word: %+v", fs)
	}
}

func TestUnknownsAreNeverAboveLow(t *testing.T) {
	// An account where nothing is known: every check reports unknown, none passes, none cries critical.
	inv := Inventory{AccountID: testAccount, Users: []User{{Name: "x", ARN: "arn:aws:iam::123456789012:user/x",
		Keys: []Key{{Slot: 1, Status: KeyActive}, {Slot: 2, Status: KeyActive}}}}}
	fs := Run(inv, DefaultConfig(asOf))
	seen := map[string]bool{}
	for _, f := range fs {
		seen[f.Check] = true
		if f.Evidence["verdict"] != "unknown" && f.Check != "KW-KEY-TWO-ACTIVE" {
			t.Errorf("%s judged %s on unknown facts: %v", f.Check, f.Severity, f.Evidence)
		}
		if f.Evidence["verdict"] == "unknown" && f.Severity > severity.Low {
			t.Errorf("%s unknown at %s", f.Check, f.Severity)
		}
	}
	for _, id := range []string{"KW-ROOT-KEY", "KW-ROOT-MFA", "KW-KEY-AGE", "KW-KEY-UNUSED", "KW-USER-NO-MFA", "KW-KEY-ADMIN", "KW-USER-NEW"} {
		if !seen[id] {
			t.Errorf("%s stayed silent about unknown facts", id)
		}
	}
}
