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
			f := undecided(directPolicyInfo, inv, u.ARN, "user_policies")
			f.Remediation = fmt.Sprintf("see the user's own policies: `aws iam list-user-policies --user-name %s` and "+
				"`aws iam list-attached-user-policies --user-name %s`", shq(u.Name), shq(u.Name))
			out = append(out, f)
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
		f := undecided(adminStarInfo, inv, accountResource(inv), "customer_managed_policies")
		f.Remediation = "allow the audit iam:GetAccountAuthorizationDetails (docs/iam.md), or look yourself: " +
			"`aws iam get-account-authorization-details --filter LocalManagedPolicy`"
		return []Finding{f}
	}
	var out []Finding
	for _, p := range inv.CustomerPolicies {
		star, err := allowsStar(p.Document)
		if err != nil {
			f := undecided(adminStarInfo, inv, p.ARN, "policy_document")
			f.Evidence["error"] = err.Error()
			f.Remediation = fmt.Sprintf("read the policy yourself: `aws iam get-policy-version --policy-arn %s --version-id "+
				"$(aws iam get-policy --policy-arn %s --query Policy.DefaultVersionId --output text)`", shq(p.ARN), shq(p.ARN))
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

// Control ids of the CloudShell check: CIS v3.0.0 1.22 / v5.0.0 1.21 and
// Security Hub IAM.27.
const (
	cisV3CloudShell = "CIS-v3.0-1.22"
	cisV5CloudShell = "CIS-v5.0-1.21"
	shCloudShell    = "IAM.27"
)

var cloudShellInfo = CheckInfo{
	ID: "KW-CLOUDSHELL-FULL", Title: "Identity has the AWSCloudShellFullAccess policy", Severity: severity.Medium,
	Controls: []string{cisV3CloudShell, cisV5CloudShell, shCloudShell},
}

// checkCloudShell fails for each user, group and role that AWS's
// AWSCloudShellFullAccess is attached to: its file upload and download
// move data in and out of the account past every other control.
func checkCloudShell(inv Inventory, _ Config) []Finding {
	var out []Finding
	add := func(resource, kind, name string, attached []string) {
		i := slices.IndexFunc(attached, isCloudShellFullAccess)
		if i < 0 {
			return
		}
		f := newFinding(cloudShellInfo, inv, resource)
		f.Evidence["policy"] = attached[i]
		f.Evidence["holder"] = kind
		f.Remediation = fmt.Sprintf("`aws iam detach-%s-policy --%s-name %s --policy-arn %s`, and grant the CloudShell actions "+
			"people need without file transfer (cloudshell:GetFileUploadUrls, cloudshell:GetFileDownloadUrls denied)",
			kind, kind, shq(name), shq(attached[i]))
		out = append(out, f)
	}
	for _, u := range inv.Users {
		if !u.DetailsRead {
			continue // KW-USER-POLICY-DIRECT reports the user's policies unknown
		}
		add(u.ARN, "user", u.Name, u.DirectPolicies)
	}
	if !inv.GroupsRead {
		f := undecided(cloudShellInfo, inv, accountResource(inv), "groups")
		f.Remediation = "allow the audit iam:GetAccountAuthorizationDetails (docs/iam.md)"
		out = append(out, f)
	}
	for _, g := range inv.Groups {
		add(fmt.Sprintf("arn:%s:iam::%s:group/%s", partition(inv), inv.AccountID, g.Name), "group", g.Name, g.Attached)
	}
	for _, r := range inv.Roles {
		add(r.ARN, "role", r.Name, r.Attached)
	}
	return out
}

// isCloudShellFullAccess reports whether arn is AWS's managed
// AWSCloudShellFullAccess, in any partition.
func isCloudShellFullAccess(arn string) bool {
	return strings.HasPrefix(arn, "arn:") && strings.HasSuffix(arn, ":iam::aws:policy/AWSCloudShellFullAccess")
}

var serviceStarInfo = CheckInfo{
	ID: "KW-POLICY-SERVICE-STAR", Title: "Customer managed policy allows every action of a service", Severity: severity.Low,
	Controls: []string{"IAM.21"},
}

// checkServiceStarPolicies fails for each customer managed policy whose
// default version allows "service:*": every action of the service,
// including those added later (iam:* alone is an administrator). A policy
// allowing "*" on "*" is KW-POLICY-ADMIN-STAR's; unreadable ones are
// reported there too.
func checkServiceStarPolicies(inv Inventory, _ Config) []Finding {
	if !inv.CustomerPoliciesRead {
		return nil // KW-POLICY-ADMIN-STAR reports the policies unknown
	}
	var out []Finding
	for _, p := range inv.CustomerPolicies {
		services, err := serviceWildcards(p.Document)
		if err != nil || len(services) == 0 {
			continue
		}
		f := newFinding(serviceStarInfo, inv, p.ARN)
		f.Evidence["policy"] = p.Name
		f.Evidence["actions"] = services
		f.Evidence["attachments"] = p.Attachments
		f.Remediation = fmt.Sprintf("list the actions its holders need instead of %s (`aws iam generate-service-last-accessed-details "+
			"--arn HOLDER_ARN --granularity ACTION_LEVEL` shows what they use), then `aws iam create-policy-version --policy-arn %s "+
			"--policy-document file://narrowed.json --set-as-default`", strings.Join(services, ", "), shq(p.ARN))
		out = append(out, f)
	}
	return out
}

// serviceWildcards lists, sorted and once each, the "service:*" actions
// Allow statements of a policy document grant.
func serviceWildcards(doc string) ([]string, error) {
	d, err := iampolicy.Parse(doc)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range d.Statements {
		if s.Effect != iampolicy.Allow {
			continue
		}
		for _, a := range s.Action {
			if service, ok := strings.CutSuffix(a, ":*"); ok && service != "" && !strings.ContainsAny(service, "*?") {
				out = append(out, strings.ToLower(a))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
