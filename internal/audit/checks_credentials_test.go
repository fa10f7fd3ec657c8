package audit

import (
	"testing"
)

// pwUser is a console user with MFA whose password was last used u days
// ago (u < 0: never) and set c days ago.
func pwUser(name string, used, set int) User {
	u := user(name)
	u.Password, u.PasswordLastChanged, u.PasswordLastUsed = Yes, ago(set), Never()
	if used >= 0 {
		u.PasswordLastUsed = ago(used)
	}
	return u
}

func TestCheckPasswordUnused(t *testing.T) {
	unknownUse := pwUser("ann", 1, 300)
	unknownUse.PasswordLastUsed = Date{}
	runCases(t, checkPasswordUnused, []checkCase{
		{"password unused 46 days fails", account(pwUser("ann", 46, 300)), nil, []string{"KW-PASSWORD-UNUSED medium ann"}},
		{"password used 44 days ago passes", account(pwUser("ann", 44, 300)), nil, nil},
		{"never-used password set 50 days ago fails", account(pwUser("ann", -1, 50)), nil, []string{"KW-PASSWORD-UNUSED medium ann"}},
		{"never-used password set 10 days ago passes", account(pwUser("ann", -1, 10)), nil, nil},
		{"no password passes", account(user("svc")), nil, nil},
		{"unknown last use is unknown", account(unknownUse), nil, []string{"KW-PASSWORD-UNUSED low ann unknown"}},
		{"--max-unused moves the limit", account(pwUser("ann", 46, 300)), &Config{AsOf: asOf, MaxUnused: 60 * day}, nil},
	})
}

func TestCheckUnused90(t *testing.T) {
	runCases(t, checkUnused90, []checkCase{
		{"key unused 91 days fails", account(user("ci", active(1, 400, 91))), nil, []string{"KW-CRED-UNUSED-90 medium ci slot=1"}},
		{"key unused 89 days passes (KW-KEY-UNUSED's business)", account(user("ci", active(1, 400, 89))), nil, nil},
		{"inactive key passes", account(user("ci", inactive(1, 400, 200))), nil, nil},
		{"never-used key counts from creation", account(user("ci", active(1, 95, -1))), nil, []string{"KW-CRED-UNUSED-90 medium ci slot=1"}},
		{"password unused 100 days fails", account(pwUser("ann", 100, 300)), nil, []string{"KW-CRED-UNUSED-90 medium ann"}},
		{"password unused 60 days passes", account(pwUser("ann", 60, 300)), nil, nil},
		{"--max-unused does not move IAM.8's 90 days", account(user("ci", active(1, 400, 91))), &Config{AsOf: asOf, MaxUnused: 200 * day},
			[]string{"KW-CRED-UNUSED-90 medium ci slot=1"}},
	})
}

func TestCheckAdminNoMFA(t *testing.T) {
	admin := func(mfa, isAdmin Tri, keys ...Key) Inventory {
		u := user("boss", keys...)
		u.MFA, u.Admin = mfa, isAdmin
		return account(u)
	}
	runCases(t, checkAdminNoMFA, []checkCase{
		{"admin without MFA fails even without a key", admin(No, Yes), nil, []string{"KW-ADMIN-NO-MFA high boss"}},
		{"admin without MFA with a key fails once", admin(No, Yes, active(1, 10, 1)), nil, []string{"KW-ADMIN-NO-MFA high boss"}},
		{"admin with MFA passes", admin(Yes, Yes, active(1, 10, 1)), nil, nil},
		{"non-admin without MFA passes", admin(No, No, active(1, 10, 1)), nil, nil},
		{"unknown rights with MFA decide nothing", admin(Yes, Unknown), nil, nil},
		{"unknown rights without MFA are unknown", admin(No, Unknown), nil, []string{"KW-ADMIN-NO-MFA low boss unknown"}},
		{"admin with unknown MFA is unknown", admin(Unknown, Yes), nil, []string{"KW-ADMIN-NO-MFA low boss unknown"}},
	})
}

func TestCheckThirdPartyKeys(t *testing.T) {
	tagged := func(tags map[string]string, keys ...Key) Inventory {
		u := user("acme", keys...)
		u.Tags = tags
		return account(u)
	}
	custom := DefaultConfig(asOf)
	custom.ThirdPartyTags = []string{"supplier=yes"}
	unread := tagged(nil, active(1, 10, 1))
	unread.Users[0].DetailsRead = false
	runCases(t, checkThirdPartyKeys, []checkCase{
		{"third-party=true with an active key fails", tagged(map[string]string{"third-party": "true"}, active(1, 10, 1)), nil,
			[]string{"KW-THIRD-PARTY-KEY high acme slot=1"}},
		{"owner-type=vendor in any case fails", tagged(map[string]string{"Owner-Type": "Vendor"}, active(1, 10, 1)), nil,
			[]string{"KW-THIRD-PARTY-KEY high acme slot=1"}},
		{"third-party=false passes", tagged(map[string]string{"third-party": "false"}, active(1, 10, 1)), nil, nil},
		{"a vendor with only an inactive key passes", tagged(map[string]string{"owner-type": "vendor"}, inactive(1, 10, 1)), nil, nil},
		{"untagged user passes", tagged(map[string]string{"team": "vendor"}, active(1, 10, 1)), nil, nil},
		{"configured tags replace the defaults", tagged(map[string]string{"third-party": "true"}, active(1, 10, 1)), &custom, nil},
		{"configured tag fails", tagged(map[string]string{"supplier": "yes"}, active(1, 10, 1)), &custom,
			[]string{"KW-THIRD-PARTY-KEY high acme slot=1"}},
		{"tags not read are unknown", unread, nil, []string{"KW-THIRD-PARTY-KEY low acme slot=1 unknown"}},
	})
}
