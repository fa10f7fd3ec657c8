package audit

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids of the account settings checks. Root hardware MFA: CIS v3.0.0
// 1.6, v5.0.0 1.5, IAM.6. Expired server certificates: CIS v3.0.0 1.19,
// v5.0.0 1.18, IAM.26. The password policy's are with each requirement.
var (
	rootHardwareMFAControls = []string{"CIS-v3.0-1.6", "CIS-v5.0-1.5", "IAM.6"}
	serverCertControls      = []string{"CIS-v3.0-1.19", "CIS-v5.0-1.18", "IAM.26"}
)

// The password policy the benchmarks ask for (CIS, Security Hub IAM.15-17),
// and the looser thresholds of Security Hub IAM.7 (length 8, its default)
// and IAM.10 (length 7, 4 remembered): a finding names those controls only
// when the policy fails them too.
const (
	minPasswordLength = 14
	minPasswordReuse  = 24
	maxPasswordAge    = 90
	iam7MinLength     = 8
	iam10MinLength    = 7
	iam10MinReuse     = 4
)

// passwordRequirement is one requirement of the password policy: its own
// check, so that each control's verdict is its own finding.
type passwordRequirement struct {
	info CheckInfo
	// judge says whether p fails the requirement, with the evidence and
	// the controls of info.Controls p fails (a looser control's threshold
	// may still be met).
	judge func(p PasswordPolicy) (weak bool, evidence map[string]any, failed []string)
}

// passwordRequirements lists the checks of the password policy, in the order
// Run applies them.
var passwordRequirements = []passwordRequirement{
	{CheckInfo{ID: "KW-PASSWORD-LENGTH", Title: "Password policy allows passwords shorter than 14 characters", Severity: severity.Medium,
		Controls: []string{"CIS-v3.0-1.8", "CIS-v5.0-1.7", "IAM.15", "IAM.7", "IAM.10"}},
		func(p PasswordPolicy) (bool, map[string]any, []string) {
			failed := []string{"CIS-v3.0-1.8", "CIS-v5.0-1.7", "IAM.15"}
			if p.MinimumLength < iam7MinLength {
				failed = append(failed, "IAM.7")
			}
			if p.MinimumLength < iam10MinLength {
				failed = append(failed, "IAM.10")
			}
			return p.MinimumLength < minPasswordLength, map[string]any{"minimum_length": p.MinimumLength, "want_at_least": minPasswordLength}, failed
		}},
	{CheckInfo{ID: "KW-PASSWORD-REUSE", Title: "Password policy remembers fewer than 24 passwords", Severity: severity.Medium,
		Controls: []string{"CIS-v3.0-1.9", "CIS-v5.0-1.8", "IAM.16", "IAM.10"}},
		func(p PasswordPolicy) (bool, map[string]any, []string) {
			failed := []string{"CIS-v3.0-1.9", "CIS-v5.0-1.8", "IAM.16"}
			if p.ReusePrevention < iam10MinReuse {
				failed = append(failed, "IAM.10")
			}
			return p.ReusePrevention < minPasswordReuse, map[string]any{"reuse_prevention": p.ReusePrevention, "want_at_least": minPasswordReuse}, failed
		}},
	classRequirement("KW-PASSWORD-UPPERCASE", "an uppercase letter", "require_uppercase", []string{"IAM.11", "IAM.7", "IAM.10"},
		func(p PasswordPolicy) bool { return p.RequireUppercase }),
	classRequirement("KW-PASSWORD-LOWERCASE", "a lowercase letter", "require_lowercase", []string{"IAM.12", "IAM.7", "IAM.10"},
		func(p PasswordPolicy) bool { return p.RequireLowercase }),
	classRequirement("KW-PASSWORD-SYMBOLS", "a symbol", "require_symbols", []string{"IAM.13", "IAM.7"},
		func(p PasswordPolicy) bool { return p.RequireSymbols }),
	classRequirement("KW-PASSWORD-NUMBERS", "a number", "require_numbers", []string{"IAM.14", "IAM.7", "IAM.10"},
		func(p PasswordPolicy) bool { return p.RequireNumbers }),
	{CheckInfo{ID: "KW-PASSWORD-MAX-AGE", Title: "Password policy lets passwords live longer than 90 days", Severity: severity.Low,
		Controls: []string{"IAM.17", "IAM.10"}},
		func(p PasswordPolicy) (bool, map[string]any, []string) {
			weak := p.MaxAgeDays == 0 || p.MaxAgeDays > maxPasswordAge
			return weak, map[string]any{"max_age_days": p.MaxAgeDays, "want_at_most": maxPasswordAge}, []string{"IAM.17", "IAM.10"}
		}},
}

// classRequirement is the requirement that passwords hold a character
// class; every control it names asks for the class as it is.
func classRequirement(id, class, field string, controls []string, required func(PasswordPolicy) bool) passwordRequirement {
	return passwordRequirement{
		info: CheckInfo{ID: id, Title: "Password policy does not require " + class, Severity: severity.Medium, Controls: controls},
		judge: func(p PasswordPolicy) (bool, map[string]any, []string) {
			return !required(p), map[string]any{field: required(p)}, controls
		},
	}
}

// passwordChecks are the requirements as checks.
func passwordChecks() []check {
	out := make([]check, len(passwordRequirements))
	for i, req := range passwordRequirements {
		out[i] = check{req.info, req.check}
	}
	return out
}

// check fails once for the account when its policy (or the lack of one:
// AWS's default asks for nothing) misses the requirement; unknown when the
// policy could not be read.
func (req passwordRequirement) check(inv Inventory, _ Config) []Finding {
	if !inv.PasswordPolicyRead {
		f := undecided(req.info, inv, accountResource(inv), "password_policy")
		f.Remediation = "allow the audit iam:GetAccountPasswordPolicy (docs/iam.md), or look yourself: `aws iam get-account-password-policy`"
		return []Finding{f}
	}
	var p PasswordPolicy
	if inv.PasswordPolicy != nil {
		p = *inv.PasswordPolicy
	}
	weak, evidence, failed := req.judge(p)
	if !weak {
		return nil
	}
	f := newFinding(req.info, inv, accountResource(inv))
	f.Controls = slices.DeleteFunc(f.Controls, func(c string) bool { return !slices.Contains(failed, c) })
	maps.Copy(f.Evidence, evidence)
	f.Evidence["policy_set"] = inv.PasswordPolicy != nil
	// The command sets the whole policy (an option left out is reset), so
	// it gives every requirement at once.
	f.Remediation = fmt.Sprintf("`aws iam update-account-password-policy --minimum-password-length %d --password-reuse-prevention %d "+
		"--require-uppercase-characters --require-lowercase-characters --require-symbols --require-numbers --max-password-age %d`",
		minPasswordLength, minPasswordReuse, maxPasswordAge)
	return []Finding{f}
}

var rootHardwareMFAInfo = CheckInfo{
	ID: "KW-ROOT-HARDWARE-MFA", Title: "Root user's MFA is not a hardware device", Severity: severity.Medium,
	Controls: rootHardwareMFAControls,
}

// checkRootHardwareMFA fails when the root user's MFA is a virtual device:
// its seed lives on a phone or a laptop that can be copied. Root without
// any MFA is KW-ROOT-MFA's finding.
func checkRootHardwareMFA(inv Inventory, _ Config) []Finding {
	if inv.Root == nil || inv.Root.MFA != Yes {
		return nil
	}
	switch inv.RootVirtualMFA {
	case No:
		return nil
	case Unknown:
		f := undecided(rootHardwareMFAInfo, inv, rootARN(inv), "virtual_mfa_devices")
		f.Remediation = "allow the audit iam:ListVirtualMFADevices (docs/iam.md), or look yourself: " +
			"`aws iam list-virtual-mfa-devices --assignment-status Assigned`"
		return []Finding{f}
	}
	f := newFinding(rootHardwareMFAInfo, inv, rootARN(inv))
	f.Evidence["virtual_mfa"] = true
	f.Remediation = fmt.Sprintf("sign in as the root user of account %s, register a hardware MFA device (a FIDO security key "+
		"or a hardware TOTP token), then remove the virtual one", inv.AccountID)
	return []Finding{f}
}

var supportRoleInfo = CheckInfo{
	ID: "KW-NO-SUPPORT-ROLE", Title: "No role may manage AWS Support cases", Severity: severity.Low,
	Controls: []string{"CIS-v3.0-1.17", "CIS-v5.0-1.16", "IAM.18"},
}

// checkSupportRole fails when AWSSupportAccess is attached to no role: in
// an incident, someone then reaches for the root user or an administrator
// key to open a case.
func checkSupportRole(inv Inventory, _ Config) []Finding {
	if !inv.SupportRolesRead {
		f := undecided(supportRoleInfo, inv, accountResource(inv), "support_roles")
		f.Remediation = "allow the audit iam:ListEntitiesForPolicy (docs/iam.md), or look yourself: " +
			"`aws iam list-entities-for-policy --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess --entity-filter Role`"
		return []Finding{f}
	}
	if len(inv.SupportRoles) > 0 {
		return nil
	}
	f := newFinding(supportRoleInfo, inv, accountResource(inv))
	f.Evidence["support_roles"] = []string{}
	f.Remediation = fmt.Sprintf("create a role your incident responders assume and attach AWS's policy: `aws iam attach-role-policy "+
		"--role-name ROLE --policy-arn arn:%s:iam::aws:policy/AWSSupportAccess`", partition(inv))
	return []Finding{f}
}

var serverCertInfo = CheckInfo{
	ID: "KW-SERVER-CERT-EXPIRED", Title: "Expired server certificate stored in IAM", Severity: severity.Low,
	Controls: serverCertControls,
}

// checkServerCerts fails for each IAM server certificate past its
// expiration at AsOf: deployed by mistake, it breaks the service or
// lowers trust in it.
func checkServerCerts(inv Inventory, cfg Config) []Finding {
	if !inv.ServerCertsRead {
		f := undecided(serverCertInfo, inv, accountResource(inv), "server_certificates")
		f.Remediation = "allow the audit iam:ListServerCertificates (docs/iam.md), or look yourself: `aws iam list-server-certificates`"
		return []Finding{f}
	}
	var out []Finding
	for _, c := range inv.ServerCerts {
		if !c.Expiration.Before(cfg.AsOf) {
			continue
		}
		f := newFinding(serverCertInfo, inv, c.ARN)
		f.Evidence["name"] = c.Name
		f.Evidence["expired"] = c.Expiration.UTC().Format(time.RFC3339)
		f.Evidence["expired_days"] = ageDays(c.Expiration, cfg.AsOf)
		f.Remediation = fmt.Sprintf("`aws iam delete-server-certificate --server-certificate-name %s`", shq(c.Name))
		out = append(out, f)
	}
	return out
}

var securityContactInfo = CheckInfo{
	ID: "KW-NO-SECURITY-CONTACT", Title: "No security contact is registered for the account", Severity: severity.Low,
	Controls: []string{"CIS-v3.0-1.2", "CIS-v5.0-1.2"},
}

// checkSecurityContact fails when the account has no security alternate
// contact: AWS's notice that one of its keys leaked then reaches only the
// root user's mailbox.
func checkSecurityContact(inv Inventory, _ Config) []Finding {
	switch inv.SecurityContact {
	case Yes:
		return nil
	case Unknown:
		f := undecided(securityContactInfo, inv, accountResource(inv), "security_contact")
		f.Remediation = "allow the audit account:GetAlternateContact (docs/iam.md), or look yourself: " +
			"`aws account get-alternate-contact --alternate-contact-type SECURITY`"
		return []Finding{f}
	}
	f := newFinding(securityContactInfo, inv, accountResource(inv))
	f.Evidence["security_contact"] = false
	f.Remediation = "`aws account put-alternate-contact --alternate-contact-type SECURITY --name NAME --title TITLE " +
		"--email-address security@example.com --phone-number PHONE` (a team's address, not a person's)"
	return []Finding{f}
}

var analyzerInfo = CheckInfo{
	ID: "KW-ACCESS-ANALYZER-OFF", Title: "IAM Access Analyzer has no active external access analyzer in the region",
	Severity: severity.Low, Controls: []string{"CIS-v3.0-1.20", "CIS-v5.0-1.19", "IAM.28"},
}

// checkAccessAnalyzer fails for each region read with no ACTIVE analyzer
// of external access (type ACCOUNT or ORGANIZATION; unused-access analyzers
// do not look for what others can reach): there, a role or bucket opened to
// another account goes unseen. Regions whose analyzers could not be listed
// are one unknown finding.
func checkAccessAnalyzer(inv Inventory, _ Config) []Finding {
	var out []Finding
	if unread := regionsNotRead(inv, inv.AnalyzerRegionsUnread); len(unread) > 0 {
		f := undecided(analyzerInfo, inv, accountResource(inv), "access_analyzers")
		f.Evidence["regions_not_read"] = unread
		f.Remediation = "allow the audit access-analyzer:ListAnalyzers (docs/iam.md), or look yourself in each region: " +
			"`aws accessanalyzer list-analyzers --region <REGION>`"
		out = append(out, f)
	}
	for _, ra := range inv.Analyzers {
		var others []string
		active := slices.ContainsFunc(ra.Analyzers, func(a Analyzer) bool {
			return a.Status == "ACTIVE" && (a.Type == "ACCOUNT" || a.Type == "ORGANIZATION")
		})
		if active {
			continue
		}
		for _, a := range ra.Analyzers {
			others = append(others, fmt.Sprintf("%s (%s, %s)", a.Name, a.Type, a.Status))
		}
		f := newFinding(analyzerInfo, inv, fmt.Sprintf("arn:%s:access-analyzer:%s:%s:analyzer", partition(inv), ra.Region, inv.AccountID))
		f.Evidence["region"] = ra.Region
		f.Evidence["analyzers"] = nonNil(others)
		f.Remediation = fmt.Sprintf("`aws accessanalyzer create-analyzer --region %s --analyzer-name external-access --type ACCOUNT` "+
			"(or --type ORGANIZATION from the organization's management or delegated administrator account)", shq(ra.Region))
		out = append(out, f)
	}
	return out
}
