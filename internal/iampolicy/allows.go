package iampolicy

// Allows reports whether the effective policy allows a concrete action on a
// concrete resource ARN: an Allow statement matches both, no unconditional
// Deny matching both cancels it, and the permissions boundary (when known)
// allows it too. Conditions are not evaluated: a conditional Allow counts,
// a conditional Deny does not cancel (see the package comment).
func Allows(e Effective, action, resource string) bool {
	if !allowedBy(e.Allow, action, resource) || deniedBy(e.denies(), action, resource) {
		return false
	}
	return !e.bounded() || allowedBy(e.Boundary.Allow, action, resource)
}

func allowedBy(refs []Ref, action, resource string) bool {
	for _, r := range refs {
		if allowsAction(r.Statement, action) && onResource(r.Statement, resource) {
			return true
		}
	}
	return false
}

func deniedBy(refs []Ref, action, resource string) bool {
	for _, r := range refs {
		if !r.Statement.Conditional() && allowsAction(r.Statement, action) && onResource(r.Statement, resource) {
			return true
		}
	}
	return false
}

// onResource reports whether a statement's Resource (or NotResource)
// covers resource; resource matching is case-sensitive, as in IAM.
func onResource(s Statement, resource string) bool {
	if len(s.Resource) > 0 {
		for _, p := range s.Resource {
			if glob(p, resource) {
				return true
			}
		}
		return false
	}
	if len(s.NotResource) == 0 {
		return false
	}
	for _, p := range s.NotResource {
		if glob(p, resource) {
			return false
		}
	}
	return true
}
