package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/severity"
)

// Account is one account as its reader left it: the inventory and how old
// its credential report was, or the error that kept it from being read.
type Account struct {
	ID, Name  string
	Inventory *Inventory // nil when Err is set
	ReportAge time.Duration
	Err       error
}

// Label names the account for the person running the audit: its id and,
// when known, its name.
func (a Account) Label() string {
	if a.Name == "" {
		return a.ID
	}
	return fmt.Sprintf("%s (%s)", a.ID, a.Name)
}

// Options say how Judge judges what was read.
type Options struct {
	// Config holds the thresholds; Config.AsOf is when ages are judged
	// (--as-of, else now), never the credential report's time: keys listed
	// since it was generated would judge as created in the future, and a
	// report's clock is not always right (moto's is fixed in 2015).
	Config
	// Org says the accounts are an organization's (--org): notes name the
	// account they are about, and the summary counts the accounts read.
	Org bool
	// Role is the role assumed in each member account, which an unread
	// account's remediation names.
	Role string
	// Canary tells the IAM users that are keywarden canaries (honey keys:
	// no rights, one key, planted on purpose); they are left out of the
	// judging, so their keys' age and disuse are no findings. nil: none.
	Canary func(account, user string) bool
	// RetireClass is the class `retire plan` saved for an account's key
	// (KW-KEY-RETIRABLE, the inventory's retire column). nil: none saved.
	RetireClass func(account, keyID string) (string, bool)
}

// Result is an audit judged: the inventories read, every finding, what
// could not be read, and the notes for the person running it.
type Result struct {
	Inventories []Inventory
	Findings    []Finding // worst first (SortFindings)
	Accounts    int       // accounts listed (1 without --org)
	Unread      int       // accounts that could not be read
	Org         bool      // Options.Org
	AsOf        time.Time // when ages were judged
	Notes       []Note
	// Incomplete is every account, region or read the audit could not
	// make: the facts they would have given are unknown, and a report of
	// the result must say so rather than claim their absence.
	Incomplete []Gap
	// Canaries are the users recognised as canaries and not judged, as
	// account/user.
	Canaries []string
}

// Gap is something the audit was asked to read and could not: an account,
// a region, or one read of an account (an IAM or CloudTrail call denied).
type Gap struct {
	Account string // the account it is in (the account itself for an unread account)
	Source  string // "account 111122223333 (dev)", "region eu-west-1", "cloudtrail:DescribeTrails"
	Reason  string // what failed, and what it leaves unknown
}

func (g Gap) String() string { return g.Source + ": " + g.Reason }

// NoteKind says how much a note matters.
type NoteKind int

const (
	NoteInfo    NoteKind = iota // for the record: how old a credential report is
	NoteWarning                 // a fact could not be read; what it would have given is unknown
	NoteError                   // an account could not be audited at all
)

// Note is a line for the person running the audit, apart from the
// findings (stderr, not the report).
type Note struct {
	Kind    NoteKind
	Account string // the Label of the account it is about, with --org
	Text    string
}

func (n Note) String() string {
	if n.Account == "" {
		return n.Text
	}
	return "account " + n.Account + ": " + n.Text
}

// Judge runs every check over each account read. An account that could not
// be read becomes a KW-ORG-ACCOUNT-UNREAD finding and an error note, and the
// others are judged all the same.
func Judge(accounts []Account, opts Options) Result {
	res := Result{Accounts: len(accounts), Org: opts.Org, AsOf: opts.AsOf}
	for _, a := range accounts {
		label := ""
		if opts.Org {
			label = a.Label()
		}
		if a.Err != nil {
			res.Unread++
			f := AccountUnread(a.ID, a.Name, opts.Role, a.Err)
			f.AsOf = opts.AsOf
			res.Findings = append(res.Findings, f)
			res.Notes = append(res.Notes, Note{NoteError, a.Label(), "not audited: " + f.Evidence["error"].(string)})
			res.Incomplete = append(res.Incomplete, Gap{Account: a.ID, Source: "account " + a.Label(),
				Reason: "not audited: " + f.Evidence["error"].(string)})
			continue
		}
		for _, g := range a.Inventory.Unread {
			res.Incomplete = append(res.Incomplete, Gap{Account: cmp.Or(a.Inventory.AccountID, a.ID), Source: g.Source, Reason: g.Reason})
		}
		res.Notes = append(res.Notes, readNotes(label, *a.Inventory, a.ReportAge)...)
		inv, canaries := withoutCanaries(*a.Inventory, opts.Canary)
		if len(canaries) > 0 {
			as := "canaries"
			if len(canaries) == 1 {
				as = "a canary"
			}
			res.Notes = append(res.Notes, Note{NoteInfo, label, fmt.Sprintf("%s recognised as %s (keywarden canary) and not judged: %s",
				english.Count(len(canaries), "user"), as, strings.Join(canaries, ", "))})
			for _, u := range canaries {
				res.Canaries = append(res.Canaries, inv.AccountID+"/"+u)
			}
		}
		inv = withRetireClasses(inv, opts.RetireClass)
		if n := unclassified(inv); n > 0 && opts.RetireClass != nil {
			res.Notes = append(res.Notes, Note{NoteInfo, label, fmt.Sprintf("%s never classified by retire plan: run `keywarden retire plan --all SOURCE` for KW-KEY-RETIRABLE to say which a role can replace",
				english.Count(n, "active key"))})
		}
		res.Findings = append(res.Findings, Run(inv, opts.Config)...)
		res.Inventories = append(res.Inventories, inv)
	}
	SortFindings(res.Findings)
	return res
}

// readNotes say how old an inventory's credential report is (AWS serves a
// cached one) and what could not be read.
func readNotes(label string, inv Inventory, reportAge time.Duration) []Note {
	var notes []Note
	if inv.ReportGeneratedAt.IsZero() {
		notes = append(notes, Note{NoteWarning, label, "no credential report: facts it gives (root user, MFA, last use) are unknown"})
	} else {
		notes = append(notes, Note{NoteInfo, label, fmt.Sprintf("credential report generated %s ago (%s); AWS refreshes it at most every 4 hours",
			formatAge(reportAge), inv.ReportGeneratedAt.UTC().Format(time.RFC3339))})
	}
	for _, w := range inv.Warnings {
		notes = append(notes, Note{NoteWarning, label, w})
	}
	return notes
}

// formatAge renders a report age to the minute (2h13m, 45m), or in days
// and hours past two days (9d04h).
func formatAge(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return fmt.Sprintf("%dm", d/time.Minute)
}

// Fails reports whether a finding is at or above level: what --fail-on
// fails on.
func Fails(findings []Finding, level severity.Level) bool {
	return slices.ContainsFunc(findings, func(f Finding) bool { return f.Severity >= level })
}

// withRetireClasses is inv with each key's saved retire class (a copy:
// the caller's inventory is left as read).
func withRetireClasses(inv Inventory, class func(account, keyID string) (string, bool)) Inventory {
	if class == nil {
		return inv
	}
	users := slices.Clone(inv.Users)
	for i, u := range users {
		keys := slices.Clone(u.Keys)
		for j, k := range keys {
			if c, ok := class(inv.AccountID, k.ID); ok && k.ID != "" {
				keys[j].RetireClass = c
			}
		}
		users[i].Keys = keys
	}
	inv.Users = users
	return inv
}

// unclassified counts the active keys retire plan never classified.
func unclassified(inv Inventory) int {
	n := 0
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			if k.Status == KeyActive && k.ID != "" && k.RetireClass == "" {
				n++
			}
		}
	}
	return n
}

// withoutCanaries is inv without the users canary tells are canaries, and
// their names.
func withoutCanaries(inv Inventory, canary func(account, user string) bool) (Inventory, []string) {
	if canary == nil {
		return inv, nil
	}
	var names []string
	kept := make([]User, 0, len(inv.Users))
	for _, u := range inv.Users {
		if canary(inv.AccountID, u.Name) {
			names = append(names, u.Name)
			continue
		}
		kept = append(kept, u)
	}
	if names == nil {
		return inv, nil
	}
	inv.Users = kept
	return inv, names
}
