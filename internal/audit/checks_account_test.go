package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// passwordFindings runs every password policy check on inv.
func passwordFindings(inv Inventory, cfg Config) []Finding {
	var out []Finding
	for _, c := range passwordChecks() {
		out = append(out, c.run(inv, cfg)...)
	}
	return out
}

func TestPasswordPolicyChecks(t *testing.T) {
	with := func(mod func(*PasswordPolicy)) Inventory {
		inv := account()
		mod(inv.PasswordPolicy)
		return inv
	}
	none := account()
	none.PasswordPolicy = nil
	unread := account()
	unread.PasswordPolicyRead = false
	all := []string{"KW-PASSWORD-LENGTH medium root", "KW-PASSWORD-LOWERCASE medium root", "KW-PASSWORD-MAX-AGE low root",
		"KW-PASSWORD-NUMBERS medium root", "KW-PASSWORD-REUSE medium root", "KW-PASSWORD-SYMBOLS medium root",
		"KW-PASSWORD-UPPERCASE medium root"}
	var unknown []string
	for _, f := range all {
		unknown = append(unknown, strings.Fields(f)[0]+" low root unknown")
	}
	slices.Sort(unknown)
	runCases(t, passwordFindings, []checkCase{
		{"the benchmarks' policy passes", account(), nil, nil},
		{"13 characters fails", with(func(p *PasswordPolicy) { p.MinimumLength = 13 }), nil, []string{"KW-PASSWORD-LENGTH medium root"}},
		{"14 characters passes", with(func(p *PasswordPolicy) { p.MinimumLength = 14 }), nil, nil},
		{"23 remembered fails", with(func(p *PasswordPolicy) { p.ReusePrevention = 23 }), nil, []string{"KW-PASSWORD-REUSE medium root"}},
		{"no uppercase fails", with(func(p *PasswordPolicy) { p.RequireUppercase = false }), nil, []string{"KW-PASSWORD-UPPERCASE medium root"}},
		{"no lowercase fails", with(func(p *PasswordPolicy) { p.RequireLowercase = false }), nil, []string{"KW-PASSWORD-LOWERCASE medium root"}},
		{"no symbols fails", with(func(p *PasswordPolicy) { p.RequireSymbols = false }), nil, []string{"KW-PASSWORD-SYMBOLS medium root"}},
		{"no numbers fails", with(func(p *PasswordPolicy) { p.RequireNumbers = false }), nil, []string{"KW-PASSWORD-NUMBERS medium root"}},
		{"never expiring fails", with(func(p *PasswordPolicy) { p.MaxAgeDays = 0 }), nil, []string{"KW-PASSWORD-MAX-AGE low root"}},
		{"expiring after 91 days fails", with(func(p *PasswordPolicy) { p.MaxAgeDays = 91 }), nil, []string{"KW-PASSWORD-MAX-AGE low root"}},
		{"expiring in 30 days passes", with(func(p *PasswordPolicy) { p.MaxAgeDays = 30 }), nil, nil},
		{"no policy at all fails every requirement", none, nil, all},
		{"unread policy is unknown for every requirement", unread, nil, unknown},
	})
}

// TestPasswordPolicyControlsAreTheFailedOnes: a finding names the looser
// Security Hub controls (IAM.7: 8 characters; IAM.10: 7 characters, 4
// remembered) only when the policy fails them too.
func TestPasswordPolicyControlsAreTheFailedOnes(t *testing.T) {
	controls := func(mod func(*PasswordPolicy)) map[string][]string {
		inv := account()
		mod(inv.PasswordPolicy)
		out := map[string][]string{}
		for _, f := range passwordFindings(inv, DefaultConfig(asOf)) {
			out[f.Check] = f.Controls
		}
		return out
	}
	for _, tt := range []struct {
		name string
		mod  func(*PasswordPolicy)
		want map[string][]string
	}{
		{"10 characters fails CIS and IAM.15 only", func(p *PasswordPolicy) { p.MinimumLength = 10 },
			map[string][]string{"KW-PASSWORD-LENGTH": {"CIS-v3.0-1.8", "CIS-v5.0-1.7", "IAM.15"}}},
		{"6 characters fails IAM.7 and IAM.10 too", func(p *PasswordPolicy) { p.MinimumLength = 6 },
			map[string][]string{"KW-PASSWORD-LENGTH": {"CIS-v3.0-1.8", "CIS-v5.0-1.7", "IAM.15", "IAM.7", "IAM.10"}}},
		{"5 remembered keeps IAM.10", func(p *PasswordPolicy) { p.ReusePrevention = 5 },
			map[string][]string{"KW-PASSWORD-REUSE": {"CIS-v3.0-1.9", "CIS-v5.0-1.8", "IAM.16"}}},
		{"no reuse prevention fails IAM.10", func(p *PasswordPolicy) { p.ReusePrevention = 0 },
			map[string][]string{"KW-PASSWORD-REUSE": {"CIS-v3.0-1.9", "CIS-v5.0-1.8", "IAM.16", "IAM.10"}}},
		{"symbols are IAM.7's, not IAM.10's", func(p *PasswordPolicy) { p.RequireSymbols = false },
			map[string][]string{"KW-PASSWORD-SYMBOLS": {"IAM.13", "IAM.7"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, controls(tt.mod)); diff != "" {
				t.Errorf("controls (-want +got):\n%s", diff)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCheckRootHardwareMFA(t *testing.T) {
	virtual := account()
	virtual.RootVirtualMFA = Yes
	unknown := account()
	unknown.RootVirtualMFA = Unknown
	noMFA := account()
	noMFA.Root.MFA, noMFA.RootVirtualMFA = No, Unknown
	runCases(t, checkRootHardwareMFA, []checkCase{
		{"a virtual root device fails", virtual, nil, []string{"KW-ROOT-HARDWARE-MFA medium root"}},
		{"MFA with no virtual device (hardware) passes", account(), nil, nil},
		{"unlisted virtual devices are unknown", unknown, nil, []string{"KW-ROOT-HARDWARE-MFA low root unknown"}},
		{"no MFA at all is KW-ROOT-MFA's finding", noMFA, nil, nil},
	})
}

func TestCheckServerCerts(t *testing.T) {
	with := func(expires time.Time) Inventory {
		inv := account()
		inv.ServerCerts = []ServerCert{{Name: "web", ARN: "arn:aws:iam::" + testAccount + ":server-certificate/web", Expiration: expires}}
		return inv
	}
	unread := account()
	unread.ServerCertsRead = false
	runCases(t, checkServerCerts, []checkCase{
		{"expired yesterday fails", with(asOf.Add(-day)), nil, []string{"KW-SERVER-CERT-EXPIRED low web"}},
		{"expiring tomorrow passes", with(asOf.Add(day)), nil, nil},
		{"no certificates pass", account(), nil, nil},
		{"unlisted certificates are unknown", unread, nil, []string{"KW-SERVER-CERT-EXPIRED low root unknown"}},
	})
}

func TestCheckSupportRole(t *testing.T) {
	none := account()
	none.SupportRoles = nil
	unread := account()
	unread.SupportRolesRead = false
	runCases(t, checkSupportRole, []checkCase{
		{"a role with AWSSupportAccess passes", account(), nil, nil},
		{"no such role fails", none, nil, []string{"KW-NO-SUPPORT-ROLE low root"}},
		{"unread is unknown", unread, nil, []string{"KW-NO-SUPPORT-ROLE low root unknown"}},
	})
}
