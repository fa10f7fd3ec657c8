package iampolicy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// AdministratorAccess is AWS's managed admin policy in the commercial
// partition. IsAdministratorAccess recognises it in every partition.
const AdministratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

// InlinePolicy is an inline (embedded) policy: its name and raw document,
// plain or percent-encoded.
type InlinePolicy struct {
	Name     string
	Document string
}

// PolicySet is what IAM attaches to one user or role, as listed by
// GetAccountAuthorizationDetails. Roles leave Groups empty.
type PolicySet struct {
	Inline   []InlinePolicy
	Attached []string // managed policy ARNs
	Groups   []string // group names
	Boundary string   // permissions boundary ARN; "" when none
}

// GroupPolicies is what IAM attaches to one group.
type GroupPolicies struct {
	Inline   []InlinePolicy
	Attached []string
}

// Catalog holds the account-wide pieces a PolicySet refers to.
type Catalog struct {
	Groups  map[string]GroupPolicies // by group name
	Managed map[string]string        // managed policy ARN -> default version document
}

// Ref is one statement with where it came from, for evidence in reports.
type Ref struct {
	// Source names the policy: "inline:NAME", a managed policy ARN,
	// "group:NAME/inline:POLICY" or "group:NAME/ARN".
	Source    string
	Index     int // 0-based position in the document's Statement list
	Statement Statement
}

func (r Ref) String() string {
	if r.Statement.Sid != "" {
		return fmt.Sprintf("%s statement %q", r.Source, r.Statement.Sid)
	}
	return fmt.Sprintf("%s statement %d", r.Source, r.Index+1)
}

// Boundary is a resolved permissions boundary.
type Boundary struct {
	ARN   string
	Known bool // false: the document was not supplied, so it restricts nothing here
	Allow []Ref
	Deny  []Ref
}

// Effective is everything that applies to one principal.
type Effective struct {
	Allow    []Ref
	Deny     []Ref
	Boundary *Boundary // nil when no boundary is set
	Groups   []string  // the principal's groups, for reports
	Missing  []string  // groups and managed policies referenced but absent from the Catalog
}

// IsAdministratorAccess reports whether arn is AWS's AdministratorAccess
// managed policy in any partition (aws, aws-cn, aws-us-gov, ...).
func IsAdministratorAccess(arn string) bool {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return false
	}
	_, tail, ok := strings.Cut(rest, ":")
	return ok && tail == "iam::aws:policy/AdministratorAccess"
}

// adminDocument is AdministratorAccess's document, used when the Catalog
// does not carry it.
var adminDocument = Document{Version: "2012-10-17", Statements: []Statement{
	{Effect: Allow, Action: []string{"*"}, Resource: []string{"*"}},
}}

// Resolve gathers the statements that apply to a principal: its inline
// policies, attached managed policies, and those of its groups, plus its
// permissions boundary. A document that does not parse is skipped and
// reported in the returned error (errors.Join of each); everything else is
// still resolved, so a caller may report partial results.
func Resolve(p PolicySet, c Catalog) (Effective, error) {
	var e Effective
	var errs []error
	add := func(source string, d Document) {
		for i, s := range d.Statements {
			r := Ref{Source: source, Index: i, Statement: s}
			if s.Effect == Deny {
				e.Deny = append(e.Deny, r)
			} else {
				e.Allow = append(e.Allow, r)
			}
		}
	}
	load := func(prefix string, inline []InlinePolicy, attached []string) {
		for _, ip := range inline {
			source := prefix + "inline:" + ip.Name
			d, err := Parse(ip.Document)
			if err != nil {
				errs = append(errs, fmt.Errorf("policy %s: %w", source, err))
				continue
			}
			add(source, d)
		}
		for _, arn := range attached {
			d, ok, err := c.managed(arn)
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("policy %s%s: %w", prefix, arn, err))
			case !ok:
				e.Missing = append(e.Missing, arn)
			default:
				add(prefix+arn, d)
			}
		}
	}
	load("", p.Inline, p.Attached)
	for _, g := range p.Groups {
		e.Groups = append(e.Groups, g)
		gp, ok := c.Groups[g]
		if !ok {
			e.Missing = append(e.Missing, "group:"+g)
			continue
		}
		load("group:"+g+"/", gp.Inline, gp.Attached)
	}
	if p.Boundary != "" {
		b, err := c.boundary(p.Boundary)
		if err != nil {
			errs = append(errs, err)
		}
		if !b.Known {
			e.Missing = append(e.Missing, p.Boundary)
		}
		e.Boundary = &b
	}
	e.Missing = dedupe(e.Missing)
	return e, errors.Join(errs...)
}

// managed returns a managed policy's document; ok is false when the Catalog
// lacks it (AdministratorAccess is always known).
func (c Catalog) managed(arn string) (Document, bool, error) {
	raw, ok := c.Managed[arn]
	if !ok {
		if IsAdministratorAccess(arn) {
			return adminDocument, true, nil
		}
		return Document{}, false, nil
	}
	d, err := Parse(raw)
	return d, err == nil, err
}

func (c Catalog) boundary(arn string) (Boundary, error) {
	b := Boundary{ARN: arn}
	d, ok, err := c.managed(arn)
	if err != nil {
		return b, fmt.Errorf("permissions boundary %s: %w", arn, err)
	}
	if !ok {
		return b, nil
	}
	b.Known = true
	for i, s := range d.Statements {
		r := Ref{Source: "boundary:" + arn, Index: i, Statement: s}
		if s.Effect == Deny {
			b.Deny = append(b.Deny, r)
		} else {
			b.Allow = append(b.Allow, r)
		}
	}
	return b, nil
}

func dedupe(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	sort.Strings(list)
	out := list[:1]
	for _, s := range list[1:] {
		if s != out[len(out)-1] {
			out = append(out, s)
		}
	}
	return out
}

// denies returns every Deny that applies: the principal's own and its
// boundary's.
func (e Effective) denies() []Ref {
	if e.Boundary == nil || len(e.Boundary.Deny) == 0 {
		return e.Deny
	}
	return append(append([]Ref(nil), e.Deny...), e.Boundary.Deny...)
}

// bounded reports whether a known boundary restricts the principal.
func (e Effective) bounded() bool { return e.Boundary != nil && e.Boundary.Known }
