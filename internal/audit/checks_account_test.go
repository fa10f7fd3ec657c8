package audit

import (
	"testing"
	"time"
)

func TestCheckPasswordPolicy(t *testing.T) {
	with := func(mod func(*PasswordPolicy)) Inventory {
		inv := account()
		mod(inv.PasswordPolicy)
		return inv
	}
	none := account()
	none.PasswordPolicy = nil
	unread := account()
	unread.PasswordPolicyRead = false
	runCases(t, checkPasswordPolicy, []checkCase{
		{"the benchmarks' policy passes", account(), nil, nil},
		{"13 characters fails", with(func(p *PasswordPolicy) { p.MinimumLength = 13 }), nil, []string{"KW-PASSWORD-POLICY medium root"}},
		{"more than 14 characters passes", with(func(p *PasswordPolicy) { p.MinimumLength = 20 }), nil, nil},
		{"23 remembered fails", with(func(p *PasswordPolicy) { p.ReusePrevention = 23 }), nil, []string{"KW-PASSWORD-POLICY medium root"}},
		{"no symbols fails", with(func(p *PasswordPolicy) { p.RequireSymbols = false }), nil, []string{"KW-PASSWORD-POLICY medium root"}},
		{"never expiring fails", with(func(p *PasswordPolicy) { p.MaxAgeDays = 0 }), nil, []string{"KW-PASSWORD-POLICY medium root"}},
		{"expiring in 30 days passes", with(func(p *PasswordPolicy) { p.MaxAgeDays = 30 }), nil, nil},
		{"no policy at all fails", none, nil, []string{"KW-PASSWORD-POLICY medium root"}},
		{"unread policy is unknown", unread, nil, []string{"KW-PASSWORD-POLICY low root unknown"}},
	})
	fs := checkPasswordPolicy(with(func(p *PasswordPolicy) { p.MinimumLength, p.ReusePrevention = 8, 0 }), DefaultConfig(asOf))
	want := []string{"minimum_length=8 (want >= 14)", "reuse_prevention=0 (want >= 24)"}
	if len(fs) != 1 || !equalStrings(fs[0].Evidence["weaknesses"].([]string), want) {
		t.Errorf("weaknesses: %+v, want %v", fs, want)
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
