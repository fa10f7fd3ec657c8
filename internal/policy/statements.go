package policy

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/policy/iamdata"
)

// policyDocument and statement are the suggested policy as written: the
// fields in IAM's order, lists always lists.
type policyDocument struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// statements groups actions by service and by the set of resources they
// were used on: one statement per (service, resource set), sorted by
// service, then by the resource set, with Sids naming the service
// (S3Access1, S3Access2, Ec2Access1).
func statements(byAction map[string][]string) []statement {
	type group struct {
		service, resources string
		st                 statement
	}
	groups := map[string]*group{}
	for _, a := range sortedKeys(byAction) {
		svc, _, _ := strings.Cut(a, ":")
		rs := byAction[a]
		key := svc + "\x00" + strings.Join(rs, "\x00")
		g := groups[key]
		if g == nil {
			g = &group{service: svc, resources: strings.Join(rs, "\x00"), st: statement{Effect: "Allow", Resource: rs}}
			groups[key] = g
		}
		g.st.Action = append(g.st.Action, a)
	}
	out := []statement{} // "Statement": [] when nothing was used, never null
	n := map[string]int{}
	for _, k := range sortedKeys(groups) {
		g := groups[k]
		n[g.service]++
		g.st.Sid = sidName(g.service) + "Access" + strconv.Itoa(n[g.service])
		out = append(out, g.st)
	}
	return out
}

// sidName is a service prefix as a Sid may spell it: letters and digits,
// each part capitalised (cognito-idp -> CognitoIdp).
func sidName(svc string) string {
	var b strings.Builder
	up := true
	for _, r := range svc {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
		up = false
	}
	return b.String()
}

// generalise replaces, level by level, more than threshold sibling
// resources under one prefix by prefix/* (arn:aws:s3:::logs/2026/* for the
// objects of logs/2026/), and drops what a wildcard then covers. Only a
// resource part with a '/' has siblings: a bucket, a function, an account
// is never widened.
func generalise(rs []string, threshold int) []string {
	if slices.Contains(rs, "*") {
		return []string{"*"}
	}
	set := map[string]bool{}
	for _, r := range rs {
		set[r] = true
	}
	for {
		children := map[string]map[string]bool{}
		for r := range set {
			if p, ok := parentOf(r); ok {
				if children[p] == nil {
					children[p] = map[string]bool{}
				}
				children[p][r] = true
			}
		}
		changed := false
		for p, kids := range children {
			if len(kids) <= threshold || set[p+"/*"] && len(kids) == 1 {
				continue
			}
			for k := range kids {
				delete(set, k)
			}
			set[p+"/*"] = true
			changed = true
		}
		if !changed {
			break
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		if !coveredByWildcard(r, set) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// parentOf is the prefix a resource is a child of: the part before its
// last '/', past the ARN's resource field (a wildcard "p/*" is a child of
// p's parent).
func parentOf(r string) (string, bool) {
	r = strings.TrimSuffix(r, "/*")
	i := strings.LastIndex(r, "/")
	if i < 0 || strings.Count(r[:i], ":") < 5 {
		return "", false
	}
	return r[:i], true
}

func coveredByWildcard(r string, set map[string]bool) bool {
	for p := r; ; {
		parent, ok := parentOf(p)
		if !ok {
			return false
		}
		if w := parent + "/*"; w != r && set[w] {
			return true
		}
		p = parent
	}
}

// scopedShare is the share of statements whose every resource is a named
// resource or a prefix of named ones (never "*", never a template whose
// identifier nothing named).
func scopedShare(stmts []statement, unnamed map[string]bool) float64 {
	if len(stmts) == 0 {
		return 0
	}
	scoped := 0
	for _, st := range stmts {
		if !slices.ContainsFunc(st.Resource, func(r string) bool { return r == "*" || unnamed[r] }) {
			scoped++
		}
	}
	return float64(scoped) / float64(len(stmts))
}

// unused is what the current policy grants and the principal never used:
// per service, the actions granted and not used (the whole service when
// none was); and each dangerous-rights class (iampolicy.Dangerous) the
// current policy grants and the suggested one does not.
func unused(d *iamdata.Data, current iampolicy.Effective, used map[string][]string, suggested []byte) []Unused {
	usedSvc := map[string]int{}
	for a := range used {
		svc, _, _ := strings.Cut(a, ":")
		usedSvc[svc]++
	}
	var out []Unused
	for _, svc := range sortedKeys(d.Services) {
		n := 0
		for _, a := range d.Services[svc].Actions {
			full := svc + ":" + a.Name
			if _, ok := used[full]; ok {
				continue
			}
			if _, ok := iampolicy.Grants(current, full, false); ok {
				n++
			}
		}
		if n > 0 {
			out = append(out, Unused{Action: svc + ":*", Count: n, Used: usedSvc[svc]})
		}
	}
	after := map[string]bool{}
	eff, _ := iampolicy.Resolve(iampolicy.PolicySet{Inline: []iampolicy.InlinePolicy{{Name: "suggested", Document: string(suggested)}}}, iampolicy.Catalog{})
	for _, c := range iampolicy.Dangerous(eff) {
		after[c.Name] = true
	}
	for _, c := range iampolicy.Dangerous(current) {
		if !after[c.Name] {
			out = append(out, Unused{Action: c.Name, Class: c.Name, Resource: strings.Join(c.Evidence.Statement.Resource, ",")})
		}
	}
	return out
}
