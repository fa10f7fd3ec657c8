package iampolicy

import "strings"

// AllowsWebIdentity reports whether a role's trust policy lets a web
// identity token, issued through the OIDC provider providerARN and carrying
// claims, assume the role (sts:AssumeRoleWithWebIdentity): an Allow
// statement names the provider as its Federated principal and every one of
// its conditions holds, and no Deny statement that applies holds. Claims are
// keyed as IAM keys them, "<issuer host>:<claim>"
// (token.actions.githubusercontent.com:sub). Only the string operators are
// evaluated (StringEquals, StringLike, their Not and IgnoreCase forms and
// IfExists); any other operator makes an Allow fail and a Deny hold, so the
// answer errs towards "no". This is what keywarden judges a trust policy
// with where no AWS is at hand to judge it (moto does not).
func (d Document) AllowsWebIdentity(providerARN string, claims map[string]string) bool {
	const action = "sts:AssumeRoleWithWebIdentity"
	allowed := false
	for _, s := range d.Statements {
		if !allowsAction(s, action) || !namesFederated(s, providerARN) {
			continue
		}
		holds := conditionHolds(s.Condition, claims, s.Effect == Deny)
		if s.Effect == Deny && holds {
			return false
		}
		if s.Effect == Allow && holds {
			allowed = true
		}
	}
	return allowed
}

// namesFederated reports whether the statement's principal takes in the
// federated principal arn.
func namesFederated(s Statement, arn string) bool {
	if s.NotPrincipal != nil {
		for _, p := range s.NotPrincipal.Federated {
			if glob(p, arn) {
				return false
			}
		}
		return true
	}
	if s.Principal == nil {
		return false
	}
	if s.Principal.All {
		return true
	}
	for _, p := range s.Principal.Federated {
		if glob(p, arn) {
			return true
		}
	}
	return false
}

// conditionHolds evaluates every operator of c against claims (all must
// hold). An operator it does not know holds when unknownHolds (a Deny's
// conditions: assume the worst), else fails.
func conditionHolds(c Condition, claims map[string]string, unknownHolds bool) bool {
	for op, keys := range c {
		match, negated, ifExists, ok := stringOperator(op)
		if !ok {
			if !unknownHolds {
				return false
			}
			continue
		}
		for key, vals := range keys {
			got, present := claim(claims, key)
			if !present {
				if ifExists || negated {
					continue
				}
				return false
			}
			hit := false
			for _, v := range vals {
				if match(v, got) {
					hit = true
					break
				}
			}
			if hit == negated {
				return false
			}
		}
	}
	return true
}

// stringOperator decodes a string condition operator: how a value matches,
// whether it is a Not form, whether it is an IfExists form.
func stringOperator(op string) (match func(pattern, s string) bool, negated, ifExists, ok bool) {
	o := strings.ToLower(op)
	if strings.Contains(o, ":") { // ForAnyValue:/ForAllValues: over multivalued keys: a token's claims are single
		o = strings.TrimPrefix(strings.TrimPrefix(o, "foranyvalue:"), "forallvalues:")
	}
	o, ifExists = strings.CutSuffix(o, "ifexists")
	switch o {
	case "stringequals", "stringnotequals":
		match = func(p, s string) bool { return p == s }
	case "stringequalsignorecase", "stringnotequalsignorecase":
		match = strings.EqualFold
	case "stringlike", "stringnotlike":
		match = glob
	default:
		return nil, false, false, false
	}
	return match, strings.Contains(o, "not"), ifExists, true
}

// claim looks key up in claims; condition keys are case-insensitive.
func claim(claims map[string]string, key string) (string, bool) {
	if v, ok := claims[key]; ok {
		return v, true
	}
	for k, v := range claims {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}
