package iampolicy

import "strings"

// AdminResult answers "is this principal admin-equivalent?".
type AdminResult struct {
	// Admin: every action on every resource, or everything but a few
	// actions while iam:PutUserPolicy or iam:AttachUserPolicy survive (so
	// the principal can grant itself the rest).
	Admin bool
	// Broad: not Admin, but every action except ExceptActions, or on every
	// resource except ExceptResources (PowerUserAccess is Broad).
	Broad bool
	// Conditional: the grant, or a Deny that would cancel it, depends on
	// conditions this package does not evaluate.
	Conditional     bool
	ExceptActions   []string // action patterns not granted or explicitly denied
	ExceptResources []string // NotResource patterns of the granting statement
	Evidence        []Ref    // the granting statement, and the boundary's when one is set
}

// escalation lists actions that, granted on every resource, let a principal
// attach any policy to itself.
var escalation = []string{"iam:AttachUserPolicy", "iam:PutUserPolicy"}

// access is the best "everything" grant found in a set of statements.
type access struct {
	ok, cond  bool
	except    []string
	exceptRes []string
	evidence  []Ref
}

// IsAdmin reports whether the effective policy makes the principal
// admin-equivalent, or Broad; see the package comment for the rules.
func IsAdmin(e Effective) AdminResult {
	a := bestGrant(e.Allow)
	applyDenies(&a, e.denies())
	if e.bounded() {
		a = a.intersect(bestGrant(e.Boundary.Allow))
	}
	if !a.ok {
		return AdminResult{}
	}
	r := AdminResult{
		Conditional:     a.cond,
		ExceptActions:   dedupe(a.except),
		ExceptResources: dedupe(a.exceptRes),
		Evidence:        a.evidence,
	}
	r.Admin = len(r.ExceptResources) == 0 && canEscalate(r.ExceptActions)
	r.Broad = !r.Admin
	return r
}

func canEscalate(except []string) bool {
	for _, action := range escalation {
		if !anyAction(except, action) {
			return true
		}
	}
	return false
}

// bestGrant finds the statement granting the most of "every action on every
// resource": a universal Action, or a NotAction, on Resource "*" or with a
// NotResource.
func bestGrant(allows []Ref) access {
	var best access
	for _, r := range allows {
		s := r.Statement
		a := access{ok: true, cond: s.Conditional(), evidence: []Ref{r}}
		switch {
		case anyUniversal(s.Action, universalAction):
		case len(s.NotAction) > 0 && !anyUniversal(s.NotAction, universalAction):
			a.except = uncovered(s.NotAction, allows)
		default:
			continue
		}
		switch {
		case anyUniversal(s.Resource, universalResource):
		case len(s.NotResource) > 0 && !anyUniversal(s.NotResource, universalResource):
			a.exceptRes = append([]string(nil), s.NotResource...)
		default:
			continue
		}
		if better(a, best) {
			best = a
		}
	}
	return best
}

// better orders candidate grants: any over none, all resources over some,
// fewer excluded actions, then unconditional over conditional.
func better(a, b access) bool {
	if a.ok != b.ok {
		return a.ok
	}
	if (len(a.exceptRes) == 0) != (len(b.exceptRes) == 0) {
		return len(a.exceptRes) == 0
	}
	if len(a.except) != len(b.except) {
		return len(a.except) < len(b.except)
	}
	return !a.cond && b.cond
}

// uncovered drops excluded action patterns that another unconditional Allow
// on every resource grants anyway ("NotAction iam:*" plus "iam:*" is "*").
func uncovered(except []string, allows []Ref) []string {
	var out []string
	for _, p := range except {
		if !grantedEverywhere(p, allows) {
			out = append(out, p)
		}
	}
	return out
}

func grantedEverywhere(pattern string, allows []Ref) bool {
	for _, r := range allows {
		s := r.Statement
		if s.Conditional() || !anyUniversal(s.Resource, universalResource) {
			continue
		}
		for _, q := range s.Action {
			if covers(strings.ToLower(q), strings.ToLower(pattern)) {
				return true
			}
		}
	}
	return false
}

// applyDenies removes what Deny statements on every resource take away.
// Scoped denies are ignored (the principal keeps everything else);
// conditional ones only mark the result conditional, and only when they
// could take admin away.
func applyDenies(a *access, denies []Ref) {
	for _, r := range denies {
		if !a.ok {
			return
		}
		s := r.Statement
		if !anyUniversal(s.Resource, universalResource) {
			continue
		}
		var all bool
		if len(s.Action) > 0 {
			all = anyUniversal(s.Action, universalAction)
		} else if anyUniversal(s.NotAction, universalAction) {
			continue // denies nothing
		} else {
			all = true // denies everything but a few actions: nothing broad is left
		}
		switch {
		case s.Conditional() && (all || !canEscalate(s.Action)):
			// It could take admin away: the answer depends on the condition.
			a.cond = true
			a.evidence = append(a.evidence, r)
		case s.Conditional():
			// At most a few non-escalation actions: admin either way.
		case all:
			*a = access{}
		default:
			a.except = append(a.except, s.Action...)
		}
	}
}

// intersect combines the identity grant with the boundary's: both must
// grant, and what either excludes is excluded.
func (a access) intersect(b access) access {
	if !a.ok || !b.ok {
		return access{}
	}
	return access{
		ok:        true,
		cond:      a.cond || b.cond,
		except:    append(append([]string(nil), a.except...), b.except...),
		exceptRes: append(append([]string(nil), a.exceptRes...), b.exceptRes...),
		evidence:  append(append([]Ref(nil), a.evidence...), b.evidence...),
	}
}
