package cli

import (
	"context"
	"fmt"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/audit/auditaws"
	"github.com/keywarden/keywarden/internal/awsx"
)

// auditOrganization reads every account of the organization and judges
// each one read; an account that could not be read becomes a
// KW-ORG-ACCOUNT-UNREAD finding and one stderr line, and the run goes on.
// Only failing to list the accounts stops it.
func auditOrganization(ctx context.Context, opts auditOptions, deps Deps, ad auditDeps) (auditResult, error) {
	results, err := ad.readOrg(ctx, awsx.Options{Profile: opts.profile, Region: opts.region}, opts.orgOpts)
	if err != nil {
		return auditResult{}, auditReadErr(err)
	}
	res := auditResult{accounts: len(results)}
	for _, r := range results {
		if r.Err != nil {
			res.unread++
			f := audit.AccountUnread(r.AccountID, r.Name, opts.orgOpts.RoleName, r.Err)
			f.AsOf = judgedAt(opts, ad)
			fmt.Fprintf(deps.Stderr, "error: account %s: not audited: %s\n", accountLabel(r), f.Evidence["error"])
			res.findings = append(res.findings, f)
			continue
		}
		prefix := "account " + accountLabel(r) + ": "
		res.findings = append(res.findings, judgeInventory(deps.Stderr, opts, ad, r.Inventory, r.Stats.ReportAge, prefix)...)
		res.inventories = append(res.inventories, *r.Inventory)
	}
	audit.SortFindings(res.findings)
	return res, nil
}

// accountLabel names an account for stderr: its id and, when known, name.
func accountLabel(r auditaws.AccountResult) string {
	if r.Name == "" {
		return r.AccountID
	}
	return fmt.Sprintf("%s (%s)", r.AccountID, r.Name)
}
