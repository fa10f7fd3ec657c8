package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

func TestKeepsRefusesAPolicyThatDeniesARecentCall(t *testing.T) {
	doc, err := iampolicy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::orders/*"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	since := now.AddDate(0, 0, -30)
	used := func(action, resource string, ago time.Duration, count, denied int) Suggestion {
		return Suggestion{Actions: []Action{{Action: action, Resources: []string{resource}, LastSeen: now.Add(-ago), Count: count, Denied: denied}}}
	}
	for _, c := range []struct {
		name string
		s    Suggestion
		ok   bool
	}{
		{"allowed", used("s3:GetObject", "arn:aws:s3:::orders/a", time.Hour, 1, 0), true},
		{"another bucket, yesterday", used("s3:GetObject", "arn:aws:s3:::ledger/a", 24*time.Hour, 1, 0), false},
		{"another action", used("s3:PutObject", "arn:aws:s3:::orders/a", time.Hour, 2, 0), false},
		{"before the window", used("s3:PutObject", "arn:aws:s3:::orders/a", 31*24*time.Hour, 2, 0), true},
		{"only ever denied", used("s3:PutObject", "arn:aws:s3:::orders/a", time.Hour, 2, 2), true},
		{"no resource: *", Suggestion{Actions: []Action{{Action: "s3:ListAllMyBuckets", LastSeen: now, Count: 1}}}, false},
	} {
		err := Keeps(c.s, doc, since, 30)
		if (err == nil) != c.ok || (err != nil && (!errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "within --keep-days 30"))) {
			t.Errorf("%s: Keeps = %v", c.name, err)
		}
	}
}

func TestFingerprintIgnoresListOrderAndGroups(t *testing.T) {
	a := Current{Attached: []Managed{{ARN: "arn:b", DefaultVersion: "v2"}, {ARN: "arn:a"}}, Inline: []Inline{{Name: "x", Document: "{}"}}}
	b := Current{Attached: []Managed{{ARN: "arn:a"}, {ARN: "arn:b", DefaultVersion: "v2"}}, Inline: []Inline{{Name: "x", Document: "{}"}},
		Groups: []Group{{Name: "ops"}}}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("the same policies in another order fingerprint differently")
	}
	b.Attached[1].DefaultVersion = "v3"
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("a new default version does not change the fingerprint")
	}
	b.Attached[1].DefaultVersion = "v2"
	b.Inline[0].Document = "{ }"
	if a.Fingerprint() == b.Fingerprint() {
		t.Error("an inline document's bytes do not change the fingerprint")
	}
}

func TestPolicyNameIsValidForIAM(t *testing.T) {
	for p, want := range map[Principal]string{
		{Type: "user", Name: "ci-deploy"}:                    "keywarden-lp-ci-deploy",
		{Type: "role", Name: "app/worker"}:                   "keywarden-lp-role-app-worker",
		{Type: "user", Name: strings.Repeat("a", 200)}:       "keywarden-lp-" + strings.Repeat("a", 115),
		{Type: "user", Name: "laura.jensen+ops@example.com"}: "keywarden-lp-laura.jensen+ops@example.com",
	} {
		if got := PolicyName(p); got != want {
			t.Errorf("PolicyName(%+v) = %s, want %s", p, got, want)
		}
	}
}
