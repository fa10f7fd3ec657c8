package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

// accountUnreadInfo is the finding for an organization's account that could
// not be audited (`keywarden audit --org`): nothing in it was judged, so it
// is reported, never passed.
var accountUnreadInfo = CheckInfo{
	ID: "KW-ORG-ACCOUNT-UNREAD", Title: "Organization account could not be audited",
	Severity: severity.High, Controls: []string{},
}

// checkAccountUnread finds nothing in one inventory: the finding is made by
// AccountUnread for accounts that have none. It is listed in checks so that
// Checks() (and SARIF's rules) name it.
func checkAccountUnread(Inventory, Config) []Finding { return nil }

// AccountUnread is the KW-ORG-ACCOUNT-UNREAD finding for an account of the
// organization whose read failed with err, after assuming role in it.
func AccountUnread(accountID, name, role string, err error) Finding {
	f := newFinding(accountUnreadInfo, Inventory{AccountID: accountID}, "arn:aws:iam::"+accountID+":root")
	f.Evidence["error"] = oneLine(err.Error())
	if name != "" {
		f.Evidence["account_name"] = name
	}
	f.Remediation = fmt.Sprintf("create role %s in account %s trusting the auditing account "+
		"(AWS Organizations creates OrganizationAccountAccessRole in accounts it creates; invited accounts need it made), "+
		"attach the audit policy of docs/iam.md#audit to it, and allow sts:AssumeRole on it to the caller", shq(role), accountID)
	return f
}

// oneLine keeps evidence to one line: SDK errors may carry response bodies.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// SortFindings orders findings as Run does: worst first, then by account,
// resource, key and check; for merging the findings of several accounts.
func SortFindings(out []Finding) {
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.AccountID, b.AccountID),
			cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.KeyID, b.KeyID),
			cmp.Compare(a.Check, b.Check),
		)
	})
}
