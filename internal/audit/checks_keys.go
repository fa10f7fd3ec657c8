package audit

import (
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/severity"
)

var twoActiveInfo = CheckInfo{
	ID: "KW-KEY-TWO-ACTIVE", Title: "User has more than one active access key", Severity: severity.Medium,
	Controls: []string{cisV3OneActiveKey, cisV5OneActiveKey},
}

// checkTwoActiveKeys fails, once per user, when more than one key is
// active. An inactive second key is not a second active key.
func checkTwoActiveKeys(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		var active, unknown []Key
		for _, k := range u.Keys {
			switch k.Status {
			case KeyActive:
				active = append(active, k)
			case KeyStatusUnknown:
				unknown = append(unknown, k)
			}
		}
		if len(active) < 2 {
			if len(active)+len(unknown) >= 2 {
				out = append(out, undecided(twoActiveInfo, inv, u.ARN, "key_status"))
			}
			continue
		}
		f := newFinding(twoActiveInfo, inv, u.ARN)
		var ids []string
		for _, k := range active {
			ids = append(ids, keyLabel(k))
		}
		f.Evidence["active_keys"] = ids
		// Keep the key used last; deactivate the other.
		spare := staler(active[0], active[1])
		f.Evidence["suggest_deactivate"] = keyLabel(spare)
		f.Remediation = findKeyStep(u.Name, spare) + fmt.Sprintf(
			"keep one key; deactivate the other (here the less recently used) with `%s`, then delete it once nothing breaks",
			deactivateCmd(u.Name, spare))
		out = append(out, f)
	}
	return out
}

// staler returns the key less worth keeping: the one used less recently
// (never used counts as oldest), else the older one.
func staler(a, b Key) Key {
	ua, ub := usedAt(a), usedAt(b)
	if !ua.Equal(ub) {
		if ua.Before(ub) {
			return a
		}
		return b
	}
	if b.Created.Known() && (!a.Created.Known() || b.Created.Time.Before(a.Created.Time)) {
		return b
	}
	return a
}

func usedAt(k Key) time.Time {
	if k.LastUsed.Known() {
		return k.LastUsed.Time
	}
	return time.Time{}
}

// keyLabel names a key in evidence: its id, or its report slot.
func keyLabel(k Key) string {
	if k.ID != "" {
		return k.ID
	}
	return fmt.Sprintf("access_key_%d", k.Slot)
}

var keyAgeInfo = CheckInfo{
	ID: "KW-KEY-AGE", Title: "Active access key is older than the rotation limit", Severity: severity.Medium,
	Controls: []string{cisV3Rotate90, cisV5Rotate90, shRotate90},
}

// checkKeyAge fails for each active key older than MaxKeyAge; beyond twice
// the limit it is high.
func checkKeyAge(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			if k.Status == KeyInactive {
				continue
			}
			if !k.Created.Known() {
				if k.Status == KeyActive {
					out = append(out, withKey(undecided(keyAgeInfo, inv, u.ARN, "created"), k))
				}
				continue
			}
			age := cfg.AsOf.Sub(k.Created.Time)
			if age <= cfg.MaxKeyAge {
				continue
			}
			if k.Status == KeyStatusUnknown {
				out = append(out, withKey(undecided(keyAgeInfo, inv, u.ARN, "key_status"), k))
				continue
			}
			f := withKey(newFinding(keyAgeInfo, inv, u.ARN), k)
			if age > 2*cfg.MaxKeyAge {
				f.Severity = severity.High
			}
			f.Evidence["age_days"] = ageDays(k.Created.Time, cfg.AsOf)
			f.Evidence["created"] = k.Created.String()
			f.Evidence["max_age_days"] = days(cfg.MaxKeyAge)
			f.Remediation = rotateSteps(u.Name, k)
			out = append(out, f)
		}
	}
	return out
}

var keyUnusedInfo = CheckInfo{
	ID: "KW-KEY-UNUSED", Title: "Active access key has not been used recently", Severity: severity.Medium,
	Controls: []string{cisV3Unused45, cisV5Unused45, shUnused45},
}

// checkKeyUnused fails for each active key not used for MaxUnused. A key
// never used is judged by its creation date, as CIS does: a never-used key
// older than the limit fails, a new one does not.
func checkKeyUnused(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			if k.Status == KeyInactive {
				continue
			}
			since, what, missing := unusedSince(k)
			if missing != "" {
				if k.Status == KeyActive {
					out = append(out, withKey(undecided(keyUnusedInfo, inv, u.ARN, missing), k))
				}
				continue
			}
			if cfg.AsOf.Sub(since) < cfg.MaxUnused {
				continue
			}
			if k.Status == KeyStatusUnknown {
				out = append(out, withKey(undecided(keyUnusedInfo, inv, u.ARN, "key_status"), k))
				continue
			}
			f := withKey(newFinding(keyUnusedInfo, inv, u.ARN), k)
			f.Evidence["unused_days"] = ageDays(since, cfg.AsOf)
			f.Evidence["unused_since"] = what
			f.Evidence["last_used"] = k.LastUsed.String()
			f.Evidence["created"] = k.Created.String()
			f.Evidence["max_unused_days"] = days(cfg.MaxUnused)
			if !inv.ReportGeneratedAt.IsZero() {
				// Use within the report's age (up to 4 hours) is not visible.
				f.Evidence["report_generated_at"] = inv.ReportGeneratedAt.UTC().Format(time.RFC3339)
			}
			f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf(
				"deactivate it: `%s`; delete it if nothing needs it: `%s`", deactivateCmd(u.Name, k), deleteCmd(u.Name, k))
			out = append(out, f)
		}
	}
	return out
}

// unusedSince is the time from which a key counts as unused: its last use,
// or its creation when it was never used. missing names the unknown fact
// when it cannot tell.
func unusedSince(k Key) (since time.Time, what, missing string) {
	switch k.LastUsed.State {
	case DateSet:
		return k.LastUsed.Time, "last_used", ""
	case DateNever:
		if k.Created.Known() {
			return k.Created.Time, "created (never used)", ""
		}
		return time.Time{}, "", "created"
	}
	return time.Time{}, "", "last_used"
}

var keyInactiveInfo = CheckInfo{
	ID: "KW-KEY-INACTIVE", Title: "Inactive access key left in place", Severity: severity.Low,
	Controls: []string{},
}

// checkInactiveKeys reports each inactive key: it can be re-activated, so
// once nothing needs it, it should be deleted.
func checkInactiveKeys(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			if k.Status != KeyInactive {
				continue
			}
			f := withKey(newFinding(keyInactiveInfo, inv, u.ARN), k)
			f.Evidence["created"] = k.Created.String()
			f.Evidence["last_used"] = k.LastUsed.String()
			if k.Created.Known() {
				f.Evidence["age_days"] = ageDays(k.Created.Time, cfg.AsOf)
			}
			f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf("delete it: `%s`", deleteCmd(u.Name, k))
			out = append(out, f)
		}
	}
	return out
}

var setupKeyInfo = CheckInfo{
	ID: "KW-KEY-AT-SETUP", Title: "Access key created at console user setup and never used", Severity: severity.Medium,
	Controls: []string{cisV3SetupKey, cisV5SetupKey},
}

// checkSetupKeys fails for each active key of a console user that was
// created within SetupWindow of the user and never used: CIS's sign of a
// key handed out by default rather than because it was needed.
func checkSetupKeys(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		if u.Password == No || !u.Created.Known() {
			continue
		}
		for _, k := range u.Keys {
			if k.Status == KeyInactive || !k.Created.Known() || k.LastUsed.State == DateSet {
				continue
			}
			if d := k.Created.Time.Sub(u.Created.Time); d < 0 || d > cfg.SetupWindow {
				continue
			}
			var missing []string
			if u.Password == Unknown {
				missing = append(missing, "password_enabled")
			}
			if k.LastUsed.State == DateUnknown {
				missing = append(missing, "last_used")
			}
			if k.Status == KeyStatusUnknown {
				missing = append(missing, "key_status")
			}
			if len(missing) > 0 {
				out = append(out, withKey(undecided(setupKeyInfo, inv, u.ARN, missing...), k))
				continue
			}
			f := withKey(newFinding(setupKeyInfo, inv, u.ARN), k)
			f.Evidence["user_created"] = u.Created.String()
			f.Evidence["key_created"] = k.Created.String()
			f.Evidence["seconds_after_user"] = int(k.Created.Time.Sub(u.Created.Time) / time.Second)
			f.Evidence["last_used"] = k.LastUsed.String()
			f.Remediation = findKeyStep(u.Name, k) + fmt.Sprintf(
				"a console user rarely needs a key; delete it: `%s`", deleteCmd(u.Name, k))
			out = append(out, f)
		}
	}
	return out
}

var retirableInfo = CheckInfo{
	ID: "KW-KEY-RETIRABLE", Title: "Active access key can be replaced by a role", Severity: severity.Low,
	Controls: []string{},
}

// retireReplacement is what retire plan proposes for each class it can
// replace (mixed and unknown: none).
var retireReplacement = map[string]string{
	"aws": "an instance profile, task, function or service role", "github": "a GitHub OIDC role pinned to the repository",
	"gitlab": "a GitLab OIDC role pinned to the project", "person": "IAM Identity Center, or a role assumed with MFA",
	"third-party": "a role the vendor assumes with an external id", "unused": "nothing: delete the key",
}

// checkRetirable fails for each active key retire plan found a
// replacement for: its saved class (audit reads no CloudTrail; a key
// unused by IAM's last use is KW-KEY-UNUSED's already).
func checkRetirable(inv Inventory, _ Config) []Finding {
	var out []Finding
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			if k.Status != KeyActive || k.ID == "" {
				continue
			}
			repl, ok := retireReplacement[k.RetireClass]
			if !ok {
				continue // never classified, mixed or unknown: no single replacement
			}
			f := withKey(newFinding(retirableInfo, inv, u.ARN), k)
			f.Evidence["retire_class"] = k.RetireClass
			f.Evidence["replacement"] = repl
			f.Remediation = fmt.Sprintf("replace it with %s: `keywarden retire plan --key %s SOURCE... --format json -o retire-plan.json` says exactly what, then `keywarden retire apply retire-plan.json` builds it and retires the key",
				repl, k.ID)
			out = append(out, f)
		}
	}
	return out
}
