package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/severity"
)

// Control ids of the credential-use checks: CIS v3.0.0 1.12 / v5.0.0 1.11
// and Security Hub IAM.22 (credentials unused 45 days: passwords as well as
// keys); Security Hub IAM.8 (unused 90 days), a control of its own.
const (
	shUnused90 = "IAM.8"
	unused90   = 90 * day
)

var passwordUnusedInfo = CheckInfo{
	ID: "KW-PASSWORD-UNUSED", Title: "Console password has not been used recently", Severity: severity.Medium,
	Controls: []string{cisV3Unused45, cisV5Unused45, shUnused45},
}

// checkPasswordUnused fails for each console password not used for
// MaxUnused (45 days): CIS counts passwords as credentials just as keys.
func checkPasswordUnused(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if f, ok := passwordUnused(passwordUnusedInfo, inv, u, cfg.AsOf, cfg.MaxUnused); ok {
			out = append(out, f)
		}
	}
	return out
}

// passwordUnused judges one user's console password against limit. A
// password never used counts from when it was set (else the user's
// creation).
func passwordUnused(info CheckInfo, inv Inventory, u User, asOf time.Time, limit time.Duration) (Finding, bool) {
	if u.Password == No {
		return Finding{}, false
	}
	since, what, missing := passwordSince(u)
	if u.Password == Unknown {
		missing = "password_enabled"
	}
	if missing != "" {
		f := undecided(info, inv, u.ARN, missing)
		f.Remediation = fmt.Sprintf("see when the password was last used: `aws iam get-user --user-name %s` (PasswordLastUsed)", shq(u.Name))
		return f, true
	}
	if asOf.Sub(since) < limit {
		return Finding{}, false
	}
	f := newFinding(info, inv, u.ARN)
	f.Evidence["credential"] = "password"
	f.Evidence["unused_days"] = ageDays(since, asOf)
	f.Evidence["unused_since"] = what
	f.Evidence["password_last_used"] = u.PasswordLastUsed.String()
	f.Evidence["max_unused_days"] = days(limit)
	f.Remediation = fmt.Sprintf("if %s no longer needs the console, remove the password: `aws iam delete-login-profile --user-name %s`",
		shq(u.Name), shq(u.Name))
	return f, true
}

func passwordSince(u User) (since time.Time, what, missing string) {
	switch u.PasswordLastUsed.State {
	case DateSet:
		return u.PasswordLastUsed.Time, "password_last_used", ""
	case DateNever:
		if u.PasswordLastChanged.Known() {
			return u.PasswordLastChanged.Time, "password_last_changed (never used)", ""
		}
		if u.Created.Known() {
			return u.Created.Time, "user created (never used)", ""
		}
		return time.Time{}, "", "password_last_changed"
	}
	return time.Time{}, "", "password_last_used"
}

var unused90Info = CheckInfo{
	ID: "KW-CRED-UNUSED-90", Title: "Credential unused for 90 days should be removed", Severity: severity.Medium,
	Controls: []string{shUnused90},
}

// checkUnused90 is Security Hub's IAM.8: each active key and each console
// password unused for 90 days, whatever --max-unused says.
func checkUnused90(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if f, ok := passwordUnused(unused90Info, inv, u, cfg.AsOf, unused90); ok {
			out = append(out, f)
		}
		for _, k := range u.Keys {
			if k.Status == KeyInactive {
				continue
			}
			since, what, missing := unusedSince(k)
			if k.Status == KeyStatusUnknown {
				missing = "key_status"
			}
			if missing != "" {
				f := withKey(undecided(unused90Info, inv, u.ARN, missing), k)
				f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf("see its last use: `aws iam get-access-key-last-used --access-key-id %s`", keyArg(k))
				out = append(out, f)
				continue
			}
			if cfg.AsOf.Sub(since) < unused90 {
				continue
			}
			f := withKey(newFinding(unused90Info, inv, u.ARN), k)
			f.Evidence["credential"] = "access_key"
			f.Evidence["unused_days"] = ageDays(since, cfg.AsOf)
			f.Evidence["unused_since"] = what
			f.Evidence["max_unused_days"] = days(unused90)
			f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf("delete it: `%s`", deleteCmd(u.Name, k))
			out = append(out, f)
		}
	}
	return out
}

var adminNoMFAInfo = CheckInfo{
	ID: "KW-ADMIN-NO-MFA", Title: "Administrator has no MFA", Severity: severity.High,
	Controls: []string{},
}

// checkAdminNoMFA fails for each administrator without an MFA device,
// whether or not it holds a key (as Prowler's
// iam_administrator_access_with_mfa): its password alone, or a key, opens
// the account.
func checkAdminNoMFA(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if u.Admin == No || u.MFA == Yes {
			continue
		}
		if u.Admin == Unknown || u.MFA == Unknown {
			var missing []string
			if u.Admin == Unknown {
				missing = append(missing, "admin")
			}
			if u.MFA == Unknown {
				missing = append(missing, "mfa_active")
			}
			// Unknown rights of a user with MFA, or unknown MFA of a
			// non-admin, decide nothing here.
			if u.Admin == Unknown && u.MFA == Yes {
				continue
			}
			f := undecided(adminNoMFAInfo, inv, u.ARN, missing...)
			f.Remediation = fmt.Sprintf("see its MFA devices (`aws iam list-mfa-devices --user-name %s`) and rights "+
				"(`aws iam list-attached-user-policies --user-name %s`, `aws iam list-groups-for-user --user-name %s`)",
				shq(u.Name), shq(u.Name), shq(u.Name))
			out = append(out, f)
			continue
		}
		f := newFinding(adminNoMFAInfo, inv, u.ARN)
		f.Evidence["admin"] = true
		f.Evidence["mfa_active"] = false
		f.Evidence["password_enabled"] = u.Password.String()
		if len(u.Groups) > 0 {
			f.Evidence["groups"] = slices.Clone(u.Groups)
		}
		f.Remediation = fmt.Sprintf("give %s an MFA device (`aws iam create-virtual-mfa-device`, then `aws iam enable-mfa-device "+
			"--user-name %s ...`), or move the administrator to IAM Identity Center or a role assumed with MFA", shq(u.Name), shq(u.Name))
		out = append(out, f)
	}
	return out
}

// DefaultThirdPartyTags are the user tags (KEY=VALUE, case-insensitive)
// that mark a user as a third party's.
var DefaultThirdPartyTags = []string{"third-party=true", "owner-type=vendor"}

var thirdPartyKeyInfo = CheckInfo{
	ID: "KW-THIRD-PARTY-KEY", Title: "Third-party user holds an active access key", Severity: severity.High,
	Controls: []string{},
}

// checkThirdPartyKeys fails for each active key of a user tagged as a third
// party's: a vendor should assume a role with an ExternalId, not hold a
// long-term key nobody here rotates.
func checkThirdPartyKeys(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		tag, ok := ThirdPartyTag(u.Tags, cfg.ThirdPartyTags)
		for _, k := range u.Keys {
			if k.Status == KeyInactive {
				continue
			}
			if !u.DetailsRead {
				f := withKey(undecided(thirdPartyKeyInfo, inv, u.ARN, "user_tags"), k)
				f.Remediation = fmt.Sprintf("see the user's tags: `aws iam list-user-tags --user-name %s`", shq(u.Name))
				out = append(out, f)
				continue
			}
			if !ok {
				continue
			}
			f := withKey(newFinding(thirdPartyKeyInfo, inv, u.ARN), k)
			if k.Status == KeyStatusUnknown {
				f = withKey(undecided(thirdPartyKeyInfo, inv, u.ARN, "key_status"), k)
			}
			f.Evidence["tag"] = tag
			f.Evidence["last_used"] = k.LastUsed.String()
			f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf("give the third party a role to assume with an "+
				"sts:ExternalId condition in its trust policy, then deactivate the key: `%s`", deactivateCmd(u.Name, k))
			out = append(out, f)
		}
	}
	return out
}

// ThirdPartyTag returns the first of marks (KEY=VALUE) that tags carry,
// keys and values compared without case (audit's KW-THIRD-PARTY-KEY and
// retire plan's third-party class).
func ThirdPartyTag(tags map[string]string, marks []string) (string, bool) {
	for _, m := range marks {
		key, value, _ := strings.Cut(m, "=")
		for k, v := range tags {
			if strings.EqualFold(k, key) && strings.EqualFold(v, value) {
				return k + "=" + v, true
			}
		}
	}
	return "", false
}
