package audit

import (
	"fmt"

	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids. CIS AWS Foundations Benchmark numbering for v3.0.0 and
// v5.0.0, and the Security Hub control ids, as AWS's Security Hub IAM control
// reference lists them ("Related requirements"); the CIS items without a
// Security Hub control (one active key, keys at initial setup) were checked
// against the CIS v3.0.0 and v5.0.0 benchmark section 1 titles.
const (
	cisV3RootKey      = "CIS-v3.0-1.4"
	cisV5RootKey      = "CIS-v5.0-1.3"
	cisV3RootMFA      = "CIS-v3.0-1.5"
	cisV5RootMFA      = "CIS-v5.0-1.4"
	cisV3ConsoleMFA   = "CIS-v3.0-1.10"
	cisV5ConsoleMFA   = "CIS-v5.0-1.9"
	cisV3SetupKey     = "CIS-v3.0-1.11"
	cisV5SetupKey     = "CIS-v5.0-1.10"
	cisV3Unused45     = "CIS-v3.0-1.12"
	cisV5Unused45     = "CIS-v5.0-1.11"
	cisV3OneActiveKey = "CIS-v3.0-1.13"
	cisV5OneActiveKey = "CIS-v5.0-1.12"
	cisV3Rotate90     = "CIS-v3.0-1.14"
	cisV5Rotate90     = "CIS-v5.0-1.13"

	shRotate90   = "IAM.3"
	shRootKey    = "IAM.4"
	shConsoleMFA = "IAM.5"
	shRootMFA    = "IAM.9"
	shUnused45   = "IAM.22"
)

var rootKeyInfo = CheckInfo{
	ID: "KW-ROOT-KEY", Title: "Root user has an access key", Severity: severity.Critical,
	Controls: []string{cisV3RootKey, cisV5RootKey, shRootKey},
}

// checkRootKeys fails for every root access key, one finding per key: an
// active one is critical, an inactive one still fails (it can be
// re-activated by anyone holding the root password) but at high.
func checkRootKeys(inv Inventory, cfg Config) []Finding {
	if inv.Root == nil {
		return []Finding{undecided(rootKeyInfo, inv, rootARN(inv), "root_account")}
	}
	var out []Finding
	for _, k := range inv.Root.Keys {
		f := withKey(newFinding(rootKeyInfo, inv, rootARN(inv)), k)
		// Any root key fails, so an unknown status is judged as active.
		if k.Status == KeyInactive {
			f.Severity = severity.High
			f.Title = "Root user has an inactive access key"
		}
		if k.Created.Known() {
			f.Evidence["age_days"] = ageDays(k.Created.Time, cfg.AsOf)
		}
		f.Evidence["created"] = k.Created.String()
		f.Evidence["last_used"] = k.LastUsed.String()
		f.Remediation = rootKeyRemediation(k, inv.AccountID)
		out = append(out, f)
	}
	return out
}

func rootKeyRemediation(k Key, account string) string {
	return findKeyStep("", k) + fmt.Sprintf(
		"with the root user's own credentials run `aws iam delete-access-key --access-key-id %s`; "+
			"with centralized root access, from the management account: `aws sts assume-root --target-principal %s "+
			"--task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials`, "+
			"then the same delete-access-key with the returned credentials. Use an IAM role instead.",
		keyArg(k), shq(account))
}

var rootMFAInfo = CheckInfo{
	ID: "KW-ROOT-MFA", Title: "Root user has no MFA", Severity: severity.Critical,
	Controls: []string{cisV3RootMFA, cisV5RootMFA, shRootMFA},
}

// checkRootMFA fails when the root user has no MFA device.
func checkRootMFA(inv Inventory, _ Config) []Finding {
	if inv.Root == nil {
		return []Finding{undecided(rootMFAInfo, inv, rootARN(inv), "root_account")}
	}
	switch inv.Root.MFA {
	case Yes:
		return nil
	case Unknown:
		return []Finding{undecided(rootMFAInfo, inv, rootARN(inv), "mfa_active")}
	}
	f := newFinding(rootMFAInfo, inv, rootARN(inv))
	f.Evidence["mfa_active"] = false
	f.Evidence["password_last_used"] = inv.Root.PasswordLastUsed.String()
	f.Remediation = fmt.Sprintf("sign in as the root user of account %s and assign an MFA device "+
		"(Security credentials > Multi-factor authentication); a hardware or passkey device is best. "+
		"The root user's MFA cannot be set from an IAM principal's CLI.", inv.AccountID)
	return []Finding{f}
}

// rootARN is the root user's ARN, built from the account id when the report
// did not give one.
func rootARN(inv Inventory) string {
	if inv.Root != nil && inv.Root.ARN != "" {
		return inv.Root.ARN
	}
	if inv.AccountID == "" {
		return ""
	}
	return "arn:aws:iam::" + inv.AccountID + ":root"
}
