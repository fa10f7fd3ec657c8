package audit

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/severity"
)

// changes renders changes compactly: "kind CHECK resource [key-seed]".
func changes(cs []Change) []string {
	out := []string{}
	for _, c := range cs {
		s := fmt.Sprintf("%s %s %s", c.Kind, c.Finding.Check, lastPart(c.Finding.Resource))
		if c.Finding.KeyID != "" {
			s += " key"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestDiffTellsWhatChangedSinceAnEarlierAudit(t *testing.T) {
	earlier := asOf.Add(-30 * day)
	// Thirty days ago: alice (console, no MFA) and bob (key used 20 days
	// before then, so fresh).
	alice := user("alice")
	alice.Password, alice.MFA = Yes, No
	bob := user("bob", withID(active(1, 80, 50), "bob"))
	before := Run(account(alice, bob), DefaultConfig(earlier))

	// Now: alice has MFA (fixed); bob's key is 50 days unused (newly stale);
	// carol was created 10 days ago with a key (new user, new key).
	alice.MFA = Yes
	carol := user("carol", withID(active(1, 10, 1), "carol"))
	carol.Created = ago(10)
	invs := []Inventory{account(alice, bob, carol)}
	now := Run(invs[0], DefaultConfig(asOf))

	got := changes(Diff(Previous{Findings: before, AsOf: earlier}, invs, now))
	want := []string{
		"fixed KW-USER-NO-MFA alice",
		"new-finding KW-USER-NEW carol",
		"new-key  carol key",
		"new-user  carol",
		"newly-stale KW-KEY-UNUSED bob key",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestDiffDoesNotClaimFixedWhatItDidNotRead(t *testing.T) {
	alice := user("alice")
	alice.Password, alice.MFA = Yes, No
	before := Run(account(alice), DefaultConfig(asOf))
	other := account()
	other.AccountID = "210987654321"
	got := changes(Diff(Previous{Findings: before, AsOf: asOf}, []Inventory{other}, nil))
	want := []string{"not-re-audited KW-CRED-UNUSED-90 alice", "not-re-audited KW-PASSWORD-UNUSED alice", "not-re-audited KW-USER-NO-MFA alice"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestDiffReportsAFindingThatGotWorse(t *testing.T) {
	bob := user("bob", withID(active(1, 100, 1), "bob"))
	before := Run(account(bob), DefaultConfig(asOf))
	later := asOf.Add(100 * day) // past twice the age limit: high
	got := Diff(Previous{Findings: before, AsOf: asOf}, []Inventory{account(bob)}, Run(account(bob), DefaultConfig(later)))
	want := []string{"new-finding KW-CRED-UNUSED-90 bob key", "newly-stale KW-KEY-UNUSED bob key", "worse KW-KEY-AGE bob key"}
	if diff := cmp.Diff(want, changes(got)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestDiffMatchesSlotOnlyKeysAcrossAudits(t *testing.T) {
	// Keys known only by their credential-report slot (no id) are the same
	// key in both audits: an unchanged finding is no change.
	bob := user("bob", active(1, 200, 1))
	fs := Run(account(bob), DefaultConfig(asOf))
	for i := range fs { // read back from JSON, the slot is a float64
		if slot, ok := fs[i].Evidence["key_slot"].(int); ok {
			fs[i].Evidence["key_slot"] = float64(slot)
		}
	}
	if got := Diff(Previous{Findings: fs}, []Inventory{account(bob)}, Run(account(bob), DefaultConfig(asOf.Add(time.Hour)))); len(got) != 0 {
		t.Errorf("want no changes, got %v", changes(got))
	}
}

func TestDiffDoesNotCallAUserNoLongerNewFixed(t *testing.T) {
	carol := user("carol")
	carol.Created = ago(10)
	before := Run(account(carol), DefaultConfig(asOf))
	if len(before) != 1 || before[0].Check != "KW-USER-NEW" {
		t.Fatalf("fixture: want one KW-USER-NEW, got %v", summary(before))
	}
	later := asOf.Add(60 * day)
	if got := Diff(Previous{Findings: before, AsOf: asOf}, []Inventory{account(carol)}, Run(account(carol), DefaultConfig(later))); len(got) != 0 {
		t.Errorf("want no changes, got %v", changes(got))
	}
}

// IAM gives creation times in whole seconds and a report's as_of has whole
// seconds too (a report with no findings has its file time, which has
// nanoseconds): a user or key created in the second the earlier audit was
// judged at may have come after it, and is listed rather than missed.
func TestDiffListsWhatWasCreatedInTheSecondOfTheEarlierAudit(t *testing.T) {
	judged := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for name, since := range map[string]time.Time{
		"as_of of a report":     judged,
		"file time of a report": judged.Add(700 * time.Millisecond),
	} {
		t.Run(name, func(t *testing.T) {
			dave := user("dave", withID(active(1, 0, 0), "dave"))
			dave.Created, dave.Keys[0].Created = At(judged), At(judged)
			erin := user("erin", withID(active(1, 0, 0), "erin"))
			erin.Created, erin.Keys[0].Created = At(judged.Add(-time.Second)), At(judged.Add(-time.Second))
			got := changes(Diff(Previous{AsOf: since}, []Inventory{account(dave, erin)}, nil))
			want := []string{"new-key  dave key", "new-user  dave"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffFailsOnlyOnWhatIsNewOrWorse: known debt and what was fixed do
// not fail --diff; a new, newly stale or worse finding at the level does.
func TestDiffFailsOnlyOnWhatIsNewOrWorse(t *testing.T) {
	medium := Finding{Check: "KW-KEY-AGE", Severity: severity.Medium}
	for kind, fails := range map[ChangeKind]bool{NewlyStale: true, NewFinding: true, Worse: true,
		Fixed: false, NotReAudited: false, NewKey: false, NewUser: false} {
		changes := []Change{{Kind: kind, Finding: medium}}
		if got := DiffFails(changes, severity.Medium); got != fails {
			t.Errorf("%s at medium: DiffFails = %v, want %v", kind, got, fails)
		}
		if DiffFails(changes, severity.High) {
			t.Errorf("%s of a medium finding fails at high", kind)
		}
	}
}

// TestDiffKnowsWhatTheEarlierReportNames: in the second of as_of, a user or
// key the earlier report names existed when it was judged, and is not new.
func TestDiffKnowsWhatTheEarlierReportNames(t *testing.T) {
	judged := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	frank := user("frank", withID(active(1, 0, 0), "frank"))
	frank.Created, frank.Keys[0].Created = At(judged), At(judged)
	grace := user("grace", withID(active(1, 0, 0), "grace"), withID(active(2, 0, 0), "grace-2"))
	grace.Created, grace.Keys[0].Created, grace.Keys[1].Created = At(judged), At(judged), At(judged)
	before := []Finding{
		{Check: "KW-USER-NEW", AccountID: testAccount, Resource: frank.ARN, Severity: severity.Info},
		{Check: "KW-KEY-ADMIN", AccountID: testAccount, Resource: grace.ARN, KeyID: grace.Keys[0].ID, Severity: severity.Critical},
	}
	now := []Finding{before[0], before[1]}
	got := changes(Diff(Previous{Findings: before, AsOf: judged}, []Inventory{account(frank, grace)}, now))
	// frank is named, his key is not; grace is named (by a finding on her
	// key), and so is her first key, not her second.
	want := []string{"new-key  frank key", "new-key  grace key"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}
