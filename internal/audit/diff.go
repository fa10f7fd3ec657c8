package audit

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/severity"
)

// ChangeKind says how an audit differs from an earlier one.
type ChangeKind string

const (
	NewUser      ChangeKind = "new-user"       // a user created since the earlier audit
	NewKey       ChangeKind = "new-key"        // an access key created since the earlier audit
	NewlyStale   ChangeKind = "newly-stale"    // a key that now fails the age or unused check
	NewFinding   ChangeKind = "new-finding"    // any other finding the earlier audit did not have
	Worse        ChangeKind = "worse"          // a finding the earlier audit had, now more severe
	Fixed        ChangeKind = "fixed"          // a finding of the earlier audit (not info) that is gone
	NotReAudited ChangeKind = "not-re-audited" // an earlier finding in an account this audit could not read
)

// Change is one difference between two audits. Finding is the current
// finding (the earlier one for Fixed and NotReAudited); for NewUser and
// NewKey it names the principal and key, with no check.
type Change struct {
	Kind    ChangeKind
	Finding Finding
	Created time.Time // NewUser, NewKey: when it was created
}

// Previous is an earlier audit, as read back from its JSON report.
type Previous struct {
	Findings []Finding
	// AsOf is when the earlier audit judged ages; zero when its report does
	// not say (then new users and keys cannot be told).
	AsOf time.Time
	// AsOfIsFileTime says the report did not say (it had no findings, or
	// an older keywarden wrote it) and AsOf is its file's modification time.
	AsOfIsFileTime bool
}

// staleChecks are the checks that fire as a key ages without rotation or use.
var staleChecks = []string{keyAgeInfo.ID, keyUnusedInfo.ID}

// Diff compares the current audit (its inventories and findings) with an
// earlier one. Findings are matched by check, account, resource and key;
// an earlier finding in an account that was not read this time is not
// claimed fixed. Changes come grouped by kind, what needs action first,
// and worst first within a kind.
func Diff(prev Previous, invs []Inventory, cur []Finding) []Change {
	read := map[string]bool{}
	for _, inv := range invs {
		read[inv.AccountID] = true
	}
	before := map[findingID]Finding{}
	for _, f := range prev.Findings {
		before[idOf(f)] = f
	}
	var out []Change
	now := map[findingID]bool{}
	for _, f := range cur {
		id := idOf(f)
		now[id] = true
		old, had := before[id]
		switch {
		case !had && slices.Contains(staleChecks, f.Check):
			out = append(out, Change{Kind: NewlyStale, Finding: f})
		case !had:
			out = append(out, Change{Kind: NewFinding, Finding: f})
		case f.Severity > old.Severity:
			out = append(out, Change{Kind: Worse, Finding: f})
		}
	}
	for _, f := range prev.Findings {
		// An info finding that is gone was not fixed: a new user listed
		// for review simply is not new any more.
		if now[idOf(f)] || f.Severity == severity.Info {
			continue
		}
		kind := Fixed
		if !read[f.AccountID] {
			kind = NotReAudited
		}
		out = append(out, Change{Kind: kind, Finding: f})
	}
	if !prev.AsOf.IsZero() {
		out = append(out, created(prev, invs)...)
	}
	sortChanges(out)
	return out
}

// findingID identifies a finding across audits: ages and evidence change
// every day, the check, place and key do not.
type findingID struct {
	check, account, resource, key string
}

func idOf(f Finding) findingID {
	key := f.KeyID
	if key == "" {
		if slot, ok := f.Evidence["key_slot"]; ok {
			key = fmt.Sprintf("slot %v", slot)
		}
	}
	return findingID{f.Check, f.AccountID, f.Resource, key}
}

// created lists the users and keys created since the earlier audit. IAM
// gives creation times in whole seconds, and a report's as_of has whole
// seconds: what was created in the second of as_of may have come after it,
// and is listed rather than missed, unless the earlier report names it (a
// finding on the user, or on the key): then it was there already.
func created(prev Previous, invs []Inventory) []Change {
	since := prev.AsOf.Truncate(time.Second)
	named := map[string]bool{}
	for _, f := range prev.Findings {
		named[f.Resource] = true
		if f.KeyID != "" {
			named[f.KeyID] = true
		}
	}
	isNew := func(d Date, name string) bool {
		t := d.Time.Truncate(time.Second)
		return d.Known() && (t.After(since) || t.Equal(since) && (name == "" || !named[name]))
	}
	var out []Change
	for _, inv := range invs {
		if inv.Root != nil {
			root := Finding{AccountID: inv.AccountID, Resource: inv.Root.ARN, Severity: severity.Info}
			out = append(out, newKeys(root, inv.Root.Keys, isNew)...)
		}
		for _, u := range inv.Users {
			principal := Finding{AccountID: inv.AccountID, Resource: u.ARN, Severity: severity.Info}
			if isNew(u.Created, u.ARN) {
				out = append(out, Change{Kind: NewUser, Finding: principal, Created: u.Created.Time})
			}
			out = append(out, newKeys(principal, u.Keys, isNew)...)
		}
	}
	return out
}

// newKeys lists the keys of principal that isNew says are new.
func newKeys(principal Finding, keys []Key, isNew func(d Date, name string) bool) []Change {
	var out []Change
	for _, k := range keys {
		if isNew(k.Created, k.ID) {
			key := principal
			key.KeyID = k.ID
			out = append(out, Change{Kind: NewKey, Finding: key, Created: k.Created.Time})
		}
	}
	return out
}

// changeOrder ranks kinds within one severity: what needs action first.
var changeOrder = []ChangeKind{NewlyStale, Worse, NewFinding, NewKey, NewUser, NotReAudited, Fixed}

func sortChanges(out []Change) {
	slices.SortStableFunc(out, func(a, b Change) int {
		return cmp.Or(
			cmp.Compare(slices.Index(changeOrder, a.Kind), slices.Index(changeOrder, b.Kind)),
			cmp.Compare(b.Finding.Severity, a.Finding.Severity),
			cmp.Compare(a.Finding.AccountID, b.Finding.AccountID),
			cmp.Compare(a.Finding.Resource, b.Finding.Resource),
			cmp.Compare(a.Finding.KeyID, b.Finding.KeyID),
			cmp.Compare(a.Finding.Check, b.Finding.Check),
		)
	})
}

// failingChanges are the kinds of change --fail-on judges: what is new or
// worse, not what was already known or has been fixed.
var failingChanges = []ChangeKind{NewlyStale, NewFinding, Worse}

// DiffFails reports whether a change is a new, newly stale or worse finding
// at or above level: what --diff fails on, so CI fails on what is new, not
// on known debt.
func DiffFails(changes []Change, level severity.Level) bool {
	return slices.ContainsFunc(changes, func(c Change) bool {
		return slices.Contains(failingChanges, c.Kind) && c.Finding.Severity >= level
	})
}
