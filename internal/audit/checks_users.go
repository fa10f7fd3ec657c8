package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

var consoleMFAInfo = CheckInfo{
	ID: "KW-USER-NO-MFA", Title: "Console user has no MFA", Severity: severity.Medium,
	Controls: []string{cisV3ConsoleMFA, cisV5ConsoleMFA, shConsoleMFA},
}

// checkConsoleMFA fails for each user with a console password and no MFA.
func checkConsoleMFA(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if u.Password == No || u.MFA == Yes {
			continue
		}
		if u.Password == Unknown || u.MFA == Unknown {
			var missing []string
			if u.Password == Unknown {
				missing = append(missing, "password_enabled")
			}
			if u.MFA == Unknown {
				missing = append(missing, "mfa_active")
			}
			out = append(out, undecided(consoleMFAInfo, inv, u.ARN, missing...))
			continue
		}
		f := newFinding(consoleMFAInfo, inv, u.ARN)
		f.Evidence["password_enabled"] = true
		f.Evidence["mfa_active"] = false
		f.Evidence["password_last_used"] = u.PasswordLastUsed.String()
		name := shq(u.Name)
		f.Remediation = fmt.Sprintf(
			"have %s enable MFA: `aws iam create-virtual-mfa-device --virtual-mfa-device-name %s "+
				"--outfile %s-mfa.png --bootstrap-method QRCodePNG`, then `aws iam enable-mfa-device --user-name %s "+
				"--serial-number %s --authentication-code1 CODE1 --authentication-code2 CODE2`; "+
				"or, if the user does not need the console: `aws iam delete-login-profile --user-name %s`",
			name, name, name, name, shq(mfaSerial(u)), name)
		out = append(out, f)
	}
	return out
}

// mfaSerial is the ARN create-virtual-mfa-device gives a device named after
// the user.
func mfaSerial(u User) string {
	return fmt.Sprintf("arn:%s:iam::%s:mfa/%s", arnPartition(u.ARN), arnAccount(u.ARN), u.Name)
}

var adminKeyInfo = CheckInfo{
	ID: "KW-KEY-ADMIN", Title: "Administrator holds an active access key", Severity: severity.High,
	Controls: []string{},
}

// checkAdminKeys fails for each active key of a user whose rights amount to
// administrator; critical when the user also has no MFA, since nothing but
// the key stands between a leak and the account.
func checkAdminKeys(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if u.Admin == No {
			continue
		}
		for _, k := range u.Keys {
			if k.Status == KeyInactive {
				continue
			}
			if u.Admin == Unknown || k.Status == KeyStatusUnknown {
				missing := "admin"
				if u.Admin == Yes {
					missing = "key_status"
				}
				out = append(out, withKey(undecided(adminKeyInfo, inv, u.ARN, missing), k))
				continue
			}
			f := withKey(newFinding(adminKeyInfo, inv, u.ARN), k)
			f.Evidence["admin"] = true
			f.Evidence["mfa_active"] = u.MFA.String()
			if u.MFA == No {
				f.Severity = severity.Critical
				f.Title = "Administrator without MFA holds an active access key"
			}
			f.Evidence["last_used"] = k.LastUsed.String()
			f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf(
				"give administrators short-term credentials instead (IAM Identity Center, or a role assumed with MFA "+
					"through `keywarden exec`), then deactivate the key: `%s`", deactivateCmd(u.Name, k))
			out = append(out, f)
		}
	}
	return out
}

var dangerousKeyInfo = CheckInfo{
	ID: "KW-KEY-DANGEROUS", Title: "Access key holder has dangerous rights", Severity: severity.Medium,
	Controls: []string{},
}

// checkDangerousKeys summarises, per active key, the dangerous rights its
// holder has. Administrators are left to KW-KEY-ADMIN, which says more.
func checkDangerousKeys(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if len(u.Dangerous) == 0 || u.Admin == Yes {
			continue
		}
		rights := slices.Sorted(slices.Values(u.Dangerous))
		rights = slices.Compact(rights)
		for _, k := range u.Keys {
			if k.Status == KeyInactive {
				continue
			}
			f := withKey(newFinding(dangerousKeyInfo, inv, u.ARN), k)
			if k.Status == KeyStatusUnknown {
				f = withKey(undecided(dangerousKeyInfo, inv, u.ARN, "key_status"), k)
			}
			f.Evidence["dangerous"] = rights
			f.Evidence["summary"] = strings.Join(rights, ", ")
			if len(u.Groups) > 0 {
				f.Evidence["groups"] = slices.Clone(u.Groups)
			}
			name := shq(u.Name)
			f.Remediation = fmt.Sprintf(
				"see where the rights come from with `aws iam list-attached-user-policies --user-name %s`, "+
					"`aws iam list-user-policies --user-name %s` and `aws iam list-groups-for-user --user-name %s`, "+
					"and narrow them to what the key's workload uses (`aws iam generate-service-last-accessed-details --arn %s`)",
				name, name, name, shq(u.ARN))
			out = append(out, f)
		}
	}
	return out
}

var newUserInfo = CheckInfo{
	ID: "KW-USER-NEW", Title: "Recently created user, for review", Severity: severity.Info,
	Controls: []string{},
}

// checkNewUsers lists users created within NewUser of AsOf: a new identity
// with keys is how persistence after a compromise often looks.
func checkNewUsers(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if !u.Created.Known() {
			f := undecided(newUserInfo, inv, u.ARN, "user_creation_time")
			f.Severity = severity.Info
			out = append(out, f)
			continue
		}
		age := cfg.AsOf.Sub(u.Created.Time)
		if age < 0 || age > cfg.NewUser {
			continue
		}
		f := newFinding(newUserInfo, inv, u.ARN)
		f.Evidence["created"] = u.Created.String()
		f.Evidence["age_days"] = ageDays(u.Created.Time, cfg.AsOf)
		f.Evidence["password_enabled"] = u.Password.String()
		active := 0
		for _, k := range u.Keys {
			if k.Status == KeyActive {
				active++
			}
		}
		f.Evidence["active_keys"] = active
		f.Remediation = fmt.Sprintf("confirm someone expected this user; if not, treat it as an incident "+
			"(`keywarden respond`) and look for who created it: `aws cloudtrail lookup-events "+
			"--lookup-attributes AttributeKey=ResourceName,AttributeValue=%s`", shq(u.Name))
		out = append(out, f)
	}
	return out
}
