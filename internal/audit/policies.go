package audit

import (
	"fmt"
	"slices"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

// JudgeUserPolicies fills u's Admin, Dangerous and Groups from the user's
// policies, resolved (internal/iampolicy) through its groups and the
// account's catalogue of group and managed policy documents. Dangerous is a
// lower bound when some policy could not be read; Admin is then Unknown
// unless what was read already makes the user admin. It returns what it
// could not judge, as warnings.
func JudgeUserPolicies(u *User, set iampolicy.PolicySet, c iampolicy.Catalog) []string {
	var warnings []string
	eff, err := iampolicy.Resolve(set, c)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("user %s: %v", u.Name, err))
	}
	u.Groups = eff.Groups
	for _, cap := range iampolicy.Dangerous(eff) {
		u.Dangerous = append(u.Dangerous, cap.Name)
	}
	switch {
	case iampolicy.IsAdmin(eff).Admin:
		u.Admin = Yes
	case err != nil || len(eff.Missing) > 0:
		u.Admin = Unknown
		if len(eff.Missing) > 0 {
			warnings = append(warnings, fmt.Sprintf("user %s: policies %v could not be read: admin unknown", u.Name, eff.Missing))
		}
	default:
		u.Admin = No
	}
	return warnings
}

// UncataloguedPolicies lists, sorted and once each, the managed policies
// that the users' policy sets and the catalogue's groups attach, or that
// bound the users, and whose documents c lacks: the AWS managed ones, which
// a reader fetches for JudgeUserPolicies to judge their holders.
// AdministratorAccess is left out: iampolicy knows it by its ARN.
func UncataloguedPolicies(c iampolicy.Catalog, users []iampolicy.PolicySet) []string {
	var out []string
	add := func(arns ...string) {
		for _, arn := range arns {
			if _, ok := c.Managed[arn]; !ok && arn != "" && !iampolicy.IsAdministratorAccess(arn) {
				out = append(out, arn)
			}
		}
	}
	for _, set := range users {
		add(set.Attached...)
		add(set.Boundary)
	}
	for _, g := range c.Groups {
		add(g.Attached...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// JudgeRoleTrust is the role named name, whose ARN is arn, as its trust
// policy (as IAM returns it, URL-encoded or not) makes it: which principals
// of other accounts may assume it without an sts:ExternalId condition. A
// role's own account is its ARN's. When the trust policy cannot be judged
// the error says why and the role is returned with TrustKnown false.
func JudgeRoleTrust(name, arn, trust string) (Role, error) {
	role := Role{Name: name, ARN: arn}
	foreign, err := iampolicy.CrossAccountWithoutExternalID(trust, arnAccount(arn))
	if err != nil {
		return role, err
	}
	role.TrustKnown, role.ForeignNoExternalID = true, foreign
	return role, nil
}
