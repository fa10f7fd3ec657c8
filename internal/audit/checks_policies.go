package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids of the policy checks: CIS v3.0.0 1.15 / v5.0.0 1.14 and
// Security Hub IAM.2 (permissions only through groups); CIS v3.0.0 1.16 /
// v5.0.0 1.15 and Security Hub IAM.1 (no policy allowing "*" on "*").
const (
	cisV3GroupsOnly = "CIS-v3.0-1.15"
	cisV5GroupsOnly = "CIS-v5.0-1.14"
	shGroupsOnly    = "IAM.2"
	cisV3AdminStar  = "CIS-v3.0-1.16"
	cisV5AdminStar  = "CIS-v5.0-1.15"
	shAdminStar     = "IAM.1"
)

var directPolicyInfo = CheckInfo{
	ID: "KW-USER-POLICY-DIRECT", Title: "User has policies attached directly, not through a group", Severity: severity.Low,
	Controls: []string{cisV3GroupsOnly, cisV5GroupsOnly, shGroupsOnly},
}

// checkDirectPolicies fails for each user with an inline or attached policy
// of its own: rights given one user at a time are the ones nobody reviews.
func checkDirectPolicies(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if !u.DetailsRead {
			out = append(out, undecided(directPolicyInfo, inv, u.ARN, "user_policies"))
			continue
		}
		if len(u.DirectPolicies) == 0 {
			continue
		}
		f := newFinding(directPolicyInfo, inv, u.ARN)
		policies := slices.Sorted(slices.Values(u.DirectPolicies))
		f.Evidence["policies"] = policies
		name := shq(u.Name)
		var steps []string
		for _, p := range policies {
			if inline, ok := strings.CutPrefix(p, "inline:"); ok {
				steps = append(steps, fmt.Sprintf("`aws iam delete-user-policy --user-name %s --policy-name %s`", name, shq(inline)))
			} else {
				steps = append(steps, fmt.Sprintf("`aws iam detach-user-policy --user-name %s --policy-arn %s`", name, shq(p)))
			}
		}
		f.Remediation = fmt.Sprintf("give the rights to a group and add %s to it (`aws iam add-user-to-group --user-name %s --group-name GROUP`), then %s",
			name, name, strings.Join(steps, ", "))
		out = append(out, f)
	}
	return out
}

var adminStarInfo = CheckInfo{
	ID: "KW-POLICY-ADMIN-STAR", Title: `Customer managed policy allows "*" on "*"`, Severity: severity.High,
	Controls: []string{cisV3AdminStar, cisV5AdminStar, shAdminStar},
}

// checkAdminStarPolicies fails for each customer managed policy whose
// default version allows every action on every resource; high when it is
// attached, medium when it waits for someone to attach it.
func checkAdminStarPolicies(inv Inventory, _ Config) []Finding {
	if !inv.CustomerPoliciesRead {
		return []Finding{undecided(adminStarInfo, inv, accountResource(inv), "customer_managed_policies")}
	}
	var out []Finding
	for _, p := range inv.CustomerPolicies {
		star, err := allowsStar(p.Document)
		if err != nil {
			f := undecided(adminStarInfo, inv, p.ARN, "policy_document")
			f.Evidence["error"] = err.Error()
			out = append(out, f)
			continue
		}
		if !star {
			continue
		}
		f := newFinding(adminStarInfo, inv, p.ARN)
		f.Evidence["policy"] = p.Name
		f.Evidence["attachments"] = p.Attachments
		if p.Attachments == 0 {
			f.Severity = severity.Medium
		}
		f.Remediation = fmt.Sprintf("replace the statement with the actions its holders use (`aws iam list-entities-for-policy --policy-arn %s` "+
			"names them; `aws iam generate-service-last-accessed-details` shows what they use), or grant administrators "+
			"AdministratorAccess through a role assumed with MFA", shq(p.ARN))
		out = append(out, f)
	}
	return out
}

// allowsStar reports whether a policy document has an Allow statement whose
// Action and Resource both include "*".
func allowsStar(doc string) (bool, error) {
	d, err := iampolicy.Parse(doc)
	if err != nil {
		return false, err
	}
	for _, s := range d.Statements {
		if s.Effect == iampolicy.Allow && slices.Contains(s.Action, "*") && slices.Contains(s.Resource, "*") {
			return true, nil
		}
	}
	return false, nil
}
