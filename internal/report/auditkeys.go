package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/english"
)

// KeyColumns is the field order of one `keywarden audit keys` row.
var KeyColumns = []string{
	"account_id", "user", "arn", "key_id", "key_slot", "status", "created", "age_days",
	"last_used", "last_used_service", "last_used_region", "mfa", "admin", "findings", "retire_class",
}

var keyHeader = []string{"ACCOUNT", "USER", "KEY", "STATUS", "AGE", "LAST USED", "SERVICE", "REGION", "MFA", "ADMIN", "FINDINGS", "RETIRE"}

// rootUser is how the credential report names the root user; keys rows use it too.
const rootUser = "<root_account>"

// KeysDocument lists every access key of the inventories, one entry per key:
// its owner, status, age in whole days at asOf, last use, the owner's MFA and
// admin facts, and the checks of findings that name the key.
func KeysDocument(invs []audit.Inventory, findings []audit.Finding, asOf time.Time) Document {
	onKey := findingsByKey(findings)
	doc := Document{Columns: KeyColumns, Header: keyHeader}
	for _, inv := range invs {
		if inv.Root != nil {
			for _, k := range inv.Root.Keys {
				own := owner{account: inv.AccountID, name: rootUser, arn: inv.Root.ARN, mfa: inv.Root.MFA, admin: audit.Yes}
				doc.Entries = append(doc.Entries, keyEntry(own, k, asOf, onKey))
			}
		}
		for _, u := range inv.Users {
			for _, k := range u.Keys {
				own := owner{account: inv.AccountID, name: u.Name, arn: u.ARN, mfa: u.MFA, admin: u.Admin}
				doc.Entries = append(doc.Entries, keyEntry(own, k, asOf, onKey))
			}
		}
	}
	slices.SortStableFunc(doc.Entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Details[0], b.Details[0]), cmp.Compare(a.Details[1], b.Details[1]),
			cmp.Compare(a.Details[2], b.Details[2]))
	})
	doc.Summary = keysSummary(doc.Entries, asOf)
	return doc
}

// owner is what a key row says about the key's user.
type owner struct {
	account, name, arn string
	mfa, admin         audit.Tri
}

// keyRef identifies a key among findings: by id, else by owner and report slot.
type keyRef struct {
	resource, id string
	slot         int
}

func refOf(arn string, k audit.Key) keyRef {
	if k.ID != "" {
		return keyRef{resource: arn, id: k.ID}
	}
	return keyRef{resource: arn, slot: k.Slot}
}

func findingsByKey(findings []audit.Finding) map[keyRef][]string {
	out := map[keyRef][]string{}
	for _, f := range findings {
		ref := keyRef{resource: f.Resource, id: f.KeyID}
		if f.KeyID == "" {
			slot, ok := f.Evidence["key_slot"].(int)
			if !ok {
				continue // about the user, not one of its keys
			}
			ref.slot = slot
		}
		if !slices.Contains(out[ref], f.Check) {
			out[ref] = append(out[ref], f.Check)
		}
	}
	for ref := range out {
		slices.Sort(out[ref])
	}
	return out
}

func keyEntry(own owner, k audit.Key, asOf time.Time, onKey map[keyRef][]string) Entry {
	checks := onKey[refOf(own.arn, k)]
	if checks == nil {
		checks = []string{}
	}
	var age any // null in JSON when the creation date is unknown
	ageText := "?"
	if k.Created.Known() {
		d := max(0, int(asOf.Sub(k.Created.Time)/(24*time.Hour)))
		age, ageText = d, fmt.Sprintf("%dd", d)
	}
	var slot any
	if k.Slot > 0 {
		slot = k.Slot
	}
	id := cmp.Or(k.ID, fmt.Sprintf("access_key_%d", k.Slot))
	// The class retire plan saved; else "unused" where IAM's last use
	// already says so (KW-KEY-UNUSED): audit reads no CloudTrail.
	retire := k.RetireClass
	if retire == "" && slices.Contains(checks, "KW-KEY-UNUSED") {
		retire = "unused"
	}
	return Entry{
		Location: Location{Path: own.arn, Logical: own.arn},
		Fields: []Field{
			{"account_id", own.account}, {"user", own.name}, {"arn", own.arn}, {"key_id", k.ID}, {"key_slot", slot},
			{"status", k.Status.String()}, {"created", k.Created.String()}, {"age_days", age},
			{"last_used", k.LastUsed.String()}, {"last_used_service", k.LastUsedService},
			{"last_used_region", k.LastUsedRegion}, {"mfa", own.mfa.String()}, {"admin", own.admin.String()},
			{"findings", checks}, {"retire_class", retire},
		},
		Details: []string{
			cmp.Or(own.account, "?"), own.name, id, k.Status.String(), ageText, lastUsedDay(k.LastUsed),
			cmp.Or(k.LastUsedService, "-"), cmp.Or(k.LastUsedRegion, "-"), own.mfa.String(), own.admin.String(),
			cmp.Or(strings.Join(checks, ","), "-"), cmp.Or(retire, "-"),
		},
	}
}

// lastUsedDay is the date of last use, "never" or "unknown".
func lastUsedDay(d audit.Date) string {
	if d.Known() {
		return d.Time.UTC().Format(time.DateOnly)
	}
	return d.String()
}

func keysSummary(entries []Entry, asOf time.Time) string {
	active, flagged := 0, 0
	for _, e := range entries {
		if e.Details[3] == audit.KeyActive.String() {
			active++
		}
		if e.Details[10] != "-" {
			flagged++
		}
	}
	return fmt.Sprintf("%s (%d active), %d with findings; ages as of %s",
		english.Count(len(entries), "key"), active, flagged, asOf.UTC().Format(time.RFC3339))
}
