package iampolicy

import "strings"

// Capability is one high-blast-radius right the effective policy grants.
type Capability struct {
	Name        string // a CapabilityNames entry
	Conditional bool   // the granting statement, or a Deny that may cancel it, has a condition
	Evidence    Ref    // the identity statement that grants it
}

// Grant is the answer to "may the principal perform this action?".
type Grant struct {
	Conditional bool
	Evidence    Ref
}

type capability struct {
	name    string
	actions []string // any of these grants the capability
	all     bool     // only counts when granted on every resource
}

// capabilities is sorted by name; Dangerous returns in this order.
var capabilities = []capability{
	{name: "ec2:RunInstances", actions: []string{"ec2:RunInstances"}},
	{name: "iam:AttachUserPolicy", actions: []string{"iam:AttachUserPolicy"}},
	{name: "iam:CreateAccessKey", actions: []string{"iam:CreateAccessKey"}},
	{name: "iam:CreateUser", actions: []string{"iam:CreateUser"}},
	{name: "iam:PassRole", actions: []string{"iam:PassRole"}},
	// "s3:*" means object reads, writes or deletes in every bucket.
	{name: "s3:*", actions: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, all: true},
	{name: "ses:SendEmail", actions: []string{"ses:SendEmail"}},
	{name: "ses:SendRawEmail", actions: []string{"ses:SendRawEmail"}},
}

// CapabilityNames lists, sorted, every name Dangerous may return.
func CapabilityNames() []string {
	names := make([]string, len(capabilities))
	for i, c := range capabilities {
		names[i] = c.name
	}
	return names
}

// Dangerous lists the high-blast-radius capabilities the effective policy
// grants, sorted by name, each with the statement that grants it. All but
// "s3:*" count on any resource; "s3:*" only on every bucket.
func Dangerous(e Effective) []Capability {
	var out []Capability
	for _, c := range capabilities {
		var best *Grant
		for _, action := range c.actions {
			g, ok := Grants(e, action, c.all)
			if ok && (best == nil || (best.Conditional && !g.Conditional)) {
				best = &g
			}
		}
		if best != nil {
			out = append(out, Capability{Name: c.name, Conditional: best.Conditional, Evidence: best.Evidence})
		}
	}
	return out
}

// Grants reports whether the effective policy allows action (a concrete
// action such as "iam:PassRole") on some resource, or on every resource when
// allResources is set, after explicit denies and the permissions boundary.
func Grants(e Effective, action string, allResources bool) (Grant, bool) {
	denies := e.denies()
	g, ok := grantIn(e.Allow, denies, action, allResources)
	if !ok || !e.bounded() {
		return g, ok
	}
	b, ok := grantIn(e.Boundary.Allow, denies, action, allResources)
	if !ok {
		return Grant{}, false
	}
	g.Conditional = g.Conditional || b.Conditional
	return g, true
}

// AllowedResources lists, sorted, the resource patterns on which the
// effective policy allows action (for example the roles a principal may
// assume with "sts:AssumeRole"). A NotResource statement contributes "*".
func AllowedResources(e Effective, action string) []string {
	if e.bounded() {
		if _, ok := grantIn(e.Boundary.Allow, e.denies(), action, false); !ok {
			return nil
		}
	}
	var out []string
	denies := e.denies()
	for _, r := range e.Allow {
		s := r.Statement
		if !allowsAction(s, action) || !hasResource(s) {
			continue
		}
		if _, denied := deniedFor(s, action, denies); denied {
			continue
		}
		if len(s.NotResource) > 0 {
			out = append(out, "*")
		}
		out = append(out, s.Resource...)
	}
	return dedupe(out)
}

// grantIn finds an Allow among allows that grants action and is not
// cancelled by denies, preferring an unconditional one.
func grantIn(allows, denies []Ref, action string, all bool) (Grant, bool) {
	var best Grant
	found := false
	for _, r := range allows {
		s := r.Statement
		if !allowsAction(s, action) || !hasResource(s) {
			continue
		}
		if all && !anyUniversal(s.Resource, everywhereFor(action)) {
			continue
		}
		cond, denied := deniedFor(s, action, denies)
		if denied {
			continue
		}
		g := Grant{Conditional: cond || s.Conditional(), Evidence: r}
		if !found || (best.Conditional && !g.Conditional) {
			best, found = g, true
		}
		if !best.Conditional {
			break
		}
	}
	return best, found
}

func allowsAction(s Statement, action string) bool {
	if len(s.Action) > 0 {
		return anyAction(s.Action, action)
	}
	return len(s.NotAction) > 0 && !anyAction(s.NotAction, action)
}

func hasResource(s Statement) bool {
	return len(s.Resource) > 0 || (len(s.NotResource) > 0 && !anyUniversal(s.NotResource, universalResource))
}

// everywhereFor returns the test for "this resource pattern covers every
// resource action applies to": "*", or for s3 also every object of every
// bucket ("arn:aws:s3:::*", "arn:aws:s3:::*/*").
func everywhereFor(action string) func(string) bool {
	if !strings.HasPrefix(strings.ToLower(action), "s3:") {
		return universalResource
	}
	return func(p string) bool {
		if universalResource(p) {
			return true
		}
		f := strings.SplitN(p, ":", 3)
		return len(f) == 3 && f[0] == "arn" && covers(p, "arn:"+f[1]+":s3:::*/*")
	}
}

// deniedFor reports whether an unconditional Deny matching action covers
// every resource allow grants it on; cond is set when only a conditional
// Deny would.
func deniedFor(allow Statement, action string, denies []Ref) (cond, denied bool) {
	for _, r := range denies {
		d := r.Statement
		if !allowsAction(d, action) || !denyCovers(d, allow) {
			continue
		}
		if d.Conditional() {
			cond = true
			continue
		}
		return false, true
	}
	return cond, false
}

func denyCovers(deny, allow Statement) bool {
	if anyUniversal(deny.Resource, universalResource) {
		return true
	}
	if len(allow.Resource) == 0 || len(deny.Resource) == 0 {
		return false // NotResource on either side: be conservative, keep the grant
	}
	for _, a := range allow.Resource {
		covered := false
		for _, d := range deny.Resource {
			covered = covered || covers(d, a)
		}
		if !covered {
			return false
		}
	}
	return true
}
