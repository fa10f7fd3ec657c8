package respond

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/gap"
	"github.com/keywarden/keywarden/internal/iampolicy"
)

// Rights is an IAM user's effective rights, resolved as the audit resolves
// them (inline, attached customer and AWS managed policies, the groups'
// policies, and the permissions boundary) by internal/iampolicy.
type Rights struct {
	Admin     bool     `json:"admin"`
	Dangerous []string `json:"dangerous"` // iampolicy.CapabilityNames entries the user holds, sorted
	Groups    []string `json:"groups"`
	Boundary  string   `json:"boundary,omitempty"` // permissions boundary ARN; "" when none
	// AssumableRoles are the resource patterns on which sts:AssumeRole is
	// allowed (role ARNs, possibly with wildcards; "*" for any role).
	AssumableRoles []string `json:"assumable_roles"`
	// Unknown names what could not be read or parsed ("group:NAME", policy
	// ARNs, or a parse error): when it is not empty, Admin false and
	// Dangerous are lower bounds, not verdicts.
	Unknown []string `json:"unknown,omitempty"`
}

// UserPolicies is what IAM holds of one user's policies, as read: the
// user's own attachments, the documents of its groups and of the managed
// policies they name, and what could not be read.
type UserPolicies struct {
	Set     iampolicy.PolicySet
	Catalog iampolicy.Catalog // the groups and managed policies that were read
	Unread  []Unread
}

// Unread is a policy source IAM did not give.
type Unread struct {
	Source string // "group:NAME" or a managed policy's ARN
	Err    error
}

// Assess resolves a user's policies into its rights. What was not read, and
// what the resolution could not place, is listed in Unknown.
func Assess(p UserPolicies) Rights {
	r, _ := assess(p)
	return r
}

// assess is Assess, with each thing in Unknown also as a gap: what it
// is and why it is unknown.
func assess(p UserPolicies) (Rights, []gap.Gap) {
	var unknown []string
	var gaps []gap.Gap
	for _, u := range p.Unread {
		unknown = append(unknown, fmt.Sprintf("%s (%v)", u.Source, u.Err))
		gaps = append(gaps, gap.Gap{Source: u.Source, Reason: oneLine(u.Err.Error())})
	}
	eff, err := iampolicy.Resolve(p.Set, p.Catalog)
	if err != nil {
		unknown = append(unknown, err.Error())
		gaps = append(gaps, gap.Gap{Source: "the user's policies", Reason: oneLine(err.Error())})
	}
	r := Rights{Admin: iampolicy.IsAdmin(eff).Admin, Groups: eff.Groups, Boundary: p.Set.Boundary,
		AssumableRoles: iampolicy.AllowedResources(eff, "sts:AssumeRole")}
	for _, cap := range iampolicy.Dangerous(eff) {
		r.Dangerous = append(r.Dangerous, cap.Name)
	}
	for _, m := range eff.Missing {
		if !slices.ContainsFunc(unknown, func(u string) bool { return strings.HasPrefix(u, m+" ") }) {
			unknown = append(unknown, m)
			gaps = append(gaps, gap.Gap{Source: m, Reason: "not among the documents IAM gave"})
		}
	}
	slices.Sort(unknown)
	slices.SortFunc(gaps, func(a, b gap.Gap) int { return strings.Compare(a.Source, b.Source) })
	r.Unknown = unknown
	return r, gaps
}
