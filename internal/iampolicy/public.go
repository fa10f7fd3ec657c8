package iampolicy

import (
	"fmt"
	"slices"
	"strings"
)

// restrictingKeys are the condition keys that narrow who may use an Allow
// open to any principal to a known account, organization, network or
// identity, as S3 and Access Analyzer judge a policy "not public".
var restrictingKeys = []string{
	"aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid", "aws:sourceorgpaths",
	"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
	"aws:principalservicename", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceip", "aws:userid", "aws:username",
}

// PublicAllows lists the Allow statements of a resource policy (a bucket
// policy) that any principal may use: Principal "*" (or {"AWS": "*"}), or
// NotPrincipal, with no condition that pins the caller to a known account,
// organization, network or identity. Each is named by its Sid, else by its
// position ("statement 2").
func PublicAllows(doc string) ([]string, error) {
	d, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, s := range d.Statements {
		if s.Effect != Allow || !openToAll(s) || restricted(s.Condition) {
			continue
		}
		name := s.Sid
		if name == "" {
			name = fmt.Sprintf("statement %d", i+1)
		}
		out = append(out, name)
	}
	return out, nil
}

func openToAll(s Statement) bool {
	if s.NotPrincipal != nil {
		return true
	}
	p := s.Principal
	return p != nil && (p.All || slices.Contains(p.AWS, "*") || slices.Contains(p.CanonicalUser, "*"))
}

// restricted says a condition pins the caller: a positive operator (not a
// Not… one, not …IfExists, which passes when the key is absent) on a
// restricting key, with a value that is not a bare wildcard.
func restricted(c Condition) bool {
	for op, keys := range c {
		lop := strings.ToLower(op)
		if strings.Contains(lop, "not") || strings.HasSuffix(lop, "ifexists") || strings.HasPrefix(lop, "null") {
			continue
		}
		for key, vals := range keys {
			if !slices.Contains(restrictingKeys, strings.ToLower(key)) {
				continue
			}
			if !slices.ContainsFunc(vals, func(v string) bool { return strings.Trim(v, "*?") == "" }) {
				return true
			}
		}
	}
	return false
}
