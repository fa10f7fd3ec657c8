package iampolicy

// AllowsCertainly reports whether the effective policy is sure to allow
// action (a concrete action such as "s3:GetObject") on resource (a concrete
// ARN, or "*" for an action without resource-level permissions): an
// unconditional Allow matches both, no Deny does — a conditional one
// included — and the permissions boundary, when known, is as sure. Since
// conditions are not evaluated, a "yes" is always a yes: what apply needs
// before it swaps a principal's policies (a generous reading, for what a
// principal may hold, counts conditional allows instead).
func AllowsCertainly(e Effective, action, resource string) bool {
	for _, d := range e.denies() {
		if statementCovers(d.Statement, action, resource) {
			return false
		}
	}
	if e.bounded() && !certainAllow(e.Boundary.Allow, action, resource) {
		return false
	}
	return certainAllow(e.Allow, action, resource)
}

func certainAllow(allows []Ref, action, resource string) bool {
	for _, r := range allows {
		if !r.Statement.Conditional() && statementCovers(r.Statement, action, resource) {
			return true
		}
	}
	return false
}

// statementCovers reports whether statement s names action and resource.
func statementCovers(s Statement, action, resource string) bool {
	if !allowsAction(s, action) {
		return false
	}
	if len(s.NotResource) > 0 {
		return !resourceIn(s.NotResource, resource)
	}
	return resourceIn(s.Resource, resource)
}

func resourceIn(patterns []string, resource string) bool {
	for _, p := range patterns {
		if glob(p, resource) {
			return true
		}
	}
	return false
}

// Only is the effective policy of one document on its own, for asking what
// a policy about to be attached would allow.
func Only(d Document) Effective {
	var e Effective
	for i, s := range d.Statements {
		r := Ref{Source: "document", Index: i, Statement: s}
		if s.Effect == Deny {
			e.Deny = append(e.Deny, r)
		} else {
			e.Allow = append(e.Allow, r)
		}
	}
	return e
}
