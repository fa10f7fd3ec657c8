package audit

import (
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids of the account settings checks. Password policy: CIS v3.0.0
// 1.8 (length) and 1.9 (reuse), v5.0.0 1.7 and 1.8; Security Hub IAM.7
// (strong policy), IAM.11-IAM.14 (character classes), IAM.15 (length 14),
// IAM.16 (reuse 24), IAM.17 (expiry 90 days). Root hardware MFA: CIS v3.0.0
// 1.6, v5.0.0 1.5, IAM.6. Expired server certificates: CIS v3.0.0 1.19,
// v5.0.0 1.18, IAM.26.
var (
	passwordPolicyControls = []string{"CIS-v3.0-1.8", "CIS-v3.0-1.9", "CIS-v5.0-1.7", "CIS-v5.0-1.8",
		"IAM.7", "IAM.11", "IAM.12", "IAM.13", "IAM.14", "IAM.15", "IAM.16", "IAM.17"}
	rootHardwareMFAControls = []string{"CIS-v3.0-1.6", "CIS-v5.0-1.5", "IAM.6"}
	serverCertControls      = []string{"CIS-v3.0-1.19", "CIS-v5.0-1.18", "IAM.26"}
)

// The password policy the benchmarks ask for.
const (
	minPasswordLength = 14
	minPasswordReuse  = 24
	maxPasswordAge    = 90
)

var passwordPolicyInfo = CheckInfo{
	ID: "KW-PASSWORD-POLICY", Title: "Account password policy is weak", Severity: severity.Medium,
	Controls: passwordPolicyControls,
}

// checkPasswordPolicy fails once for the account when its password policy
// misses any of: 14 characters, 24 passwords remembered, the four
// character classes, expiry within 90 days. evidence.weaknesses lists each.
func checkPasswordPolicy(inv Inventory, _ Config) []Finding {
	if !inv.PasswordPolicyRead {
		f := undecided(passwordPolicyInfo, inv, accountResource(inv), "password_policy")
		f.Remediation = "allow the audit iam:GetAccountPasswordPolicy (docs/iam.md), or look yourself: `aws iam get-account-password-policy`"
		return []Finding{f}
	}
	weak := passwordWeaknesses(inv.PasswordPolicy)
	if len(weak) == 0 {
		return nil
	}
	f := newFinding(passwordPolicyInfo, inv, accountResource(inv))
	f.Evidence["weaknesses"] = weak
	f.Evidence["policy_set"] = inv.PasswordPolicy != nil
	f.Remediation = fmt.Sprintf("`aws iam update-account-password-policy --minimum-password-length %d --password-reuse-prevention %d "+
		"--require-uppercase-characters --require-lowercase-characters --require-symbols --require-numbers --max-password-age %d`",
		minPasswordLength, minPasswordReuse, maxPasswordAge)
	return []Finding{f}
}

// passwordWeaknesses names what p misses; with no policy at all, all of it.
func passwordWeaknesses(p *PasswordPolicy) []string {
	if p == nil {
		p = &PasswordPolicy{}
	}
	var weak []string
	if p.MinimumLength < minPasswordLength {
		weak = append(weak, fmt.Sprintf("minimum_length=%d (want >= %d)", p.MinimumLength, minPasswordLength))
	}
	if p.ReusePrevention < minPasswordReuse {
		weak = append(weak, fmt.Sprintf("reuse_prevention=%d (want >= %d)", p.ReusePrevention, minPasswordReuse))
	}
	for _, c := range []struct {
		name string
		ok   bool
	}{{"uppercase", p.RequireUppercase}, {"lowercase", p.RequireLowercase}, {"symbols", p.RequireSymbols}, {"numbers", p.RequireNumbers}} {
		if !c.ok {
			weak = append(weak, "require_"+c.name+"=false")
		}
	}
	if p.MaxAgeDays == 0 || p.MaxAgeDays > maxPasswordAge {
		weak = append(weak, fmt.Sprintf("max_age_days=%d (want 1..%d)", p.MaxAgeDays, maxPasswordAge))
	}
	return weak
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
