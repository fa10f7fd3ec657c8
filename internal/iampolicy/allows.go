package iampolicy

// Allows reports whether the effective policy allows action (a concrete
// action such as "s3:GetObject") on resource (a concrete ARN, or "*" for an
// action without resource-level permissions): some Allow matches both and no
// Deny does, and the permissions boundary, when known, allows it too. A
// conditional statement cannot be evaluated here: a conditional Allow does
// not count and a conditional Deny does, so a "yes" is always a yes.
func Allows(e Effective, action, resource string) bool {
	for _, d := range e.denies() {
		if matches(d.Statement, action, resource) {
			return false
		}
	}
	if e.bounded() && !allowedBy(e.Boundary.Allow, action, resource) {
		return false
	}
	return allowedBy(e.Allow, action, resource)
}

func allowedBy(allows []Ref, action, resource string) bool {
	for _, r := range allows {
		if !r.Statement.Conditional() && matches(r.Statement, action, resource) {
			return true
		}
	}
	return false
}

// matches reports whether statement s names action and resource.
func matches(s Statement, action, resource string) bool {
	if !allowsAction(s, action) {
		return false
	}
	if len(s.NotResource) > 0 {
		return !anyResource(s.NotResource, resource)
	}
	return anyResource(s.Resource, resource)
}

func anyResource(patterns []string, resource string) bool {
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
