package iampolicy

import (
	"fmt"
	"strings"
)

// CrossAccountWithoutExternalID parses a role's trust policy and returns the
// foreign principals it lets call sts:AssumeRole without an sts:ExternalId
// condition; see Document.CrossAccountWithoutExternalID.
func CrossAccountWithoutExternalID(trustDoc, ownAccount string) ([]string, error) {
	d, err := Parse(trustDoc)
	if err != nil {
		return nil, fmt.Errorf("trust policy: %w", err)
	}
	return d.CrossAccountWithoutExternalID(ownAccount), nil
}

// CrossAccountWithoutExternalID returns, sorted, the AWS principals of Allow
// statements granting sts:AssumeRole that belong to another account than
// ownAccount and are not constrained by an sts:ExternalId condition. "*"
// (bare or as {"AWS": "*"}) counts as foreign, and so does an Allow with
// NotPrincipal (everyone but a few), reported as "*". Service and Federated
// principals are ignored (they assume roles by other means), and so are
// unique ids (AIDA..., AROA...) IAM leaves behind for deleted principals.
// Other conditions (aws:PrincipalOrgID, aws:SourceAccount) are not
// evaluated: such a statement is still reported.
func (d Document) CrossAccountWithoutExternalID(ownAccount string) []string {
	var out []string
	for _, s := range d.Statements {
		if s.Effect != Allow || !allowsAction(s, "sts:AssumeRole") || requiresExternalID(s.Condition) {
			continue
		}
		if s.NotPrincipal != nil {
			out = append(out, "*")
			continue
		}
		if s.Principal == nil {
			continue
		}
		if s.Principal.All {
			out = append(out, "*")
		}
		for _, p := range s.Principal.AWS {
			if account, ok := principalAccount(p); ok && account != ownAccount {
				out = append(out, p)
			}
		}
	}
	return dedupe(out)
}

// principalAccount returns the account an AWS principal belongs to: "*" for
// anyone, the id itself for a bare account id, field 5 of an ARN.
func principalAccount(p string) (string, bool) {
	switch {
	case p == "*":
		return "*", true
	case isAccountID(p):
		return p, true
	case strings.HasPrefix(p, "arn:"):
		f := strings.SplitN(p, ":", 6)
		if len(f) == 6 && f[4] != "" {
			return f[4], true
		}
	}
	return "", false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// requiresExternalID reports whether a condition demands a specific
// sts:ExternalId. "...IfExists" operators and ForAllValues pass when the key
// is absent, Null and negated operators do not pin a value, so none count.
func requiresExternalID(c Condition) bool {
	for op, keys := range c {
		if !pinsValue(op) {
			continue
		}
		for key, vals := range keys {
			if strings.EqualFold(key, "sts:ExternalId") && pinned(vals) {
				return true
			}
		}
	}
	return false
}

func pinsValue(op string) bool {
	op = strings.ToLower(op)
	op = strings.TrimPrefix(op, "foranyvalue:")
	if strings.HasSuffix(op, "ifexists") || strings.Contains(op, ":") {
		return false
	}
	return op == "stringequals" || op == "stringequalsignorecase" || op == "stringlike"
}

// pinned reports whether some value is more than wildcards: StringLike "*"
// accepts any external id, which is no protection.
func pinned(vals []string) bool {
	for _, v := range vals {
		if strings.Trim(v, "*") != "" {
			return true
		}
	}
	return false
}
