package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

// Grant is one action (or action pattern) on one resource (pattern), with
// the policy it comes from.
type Grant struct {
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Source   string `json:"source,omitempty"` // "inline:NAME", a managed policy ARN, "group:G/..."; "suggested"
}

// ServiceDiff is one service's part of a diff.
type ServiceDiff struct {
	Service   string  `json:"service"`
	Removed   []Grant `json:"removed,omitempty"`   // granted now, not in the suggestion
	Added     []Grant `json:"added,omitempty"`     // in the suggestion, not granted now
	Unchanged []Grant `json:"unchanged,omitempty"` // in the suggestion and granted now
}

// Diff compares what a principal holds with a suggestion, by service.
type Diff struct {
	Principal Principal     `json:"principal"`
	Policies  []string      `json:"policies"` // what the principal holds now, as sources
	Services  []ServiceDiff `json:"services"`
	// Groups are left as they are by apply: their grants stay after it.
	Groups []string `json:"groups_kept,omitempty"`
}

// Compare diffs cur against s's policy. A suggested grant is unchanged when
// the current policies allow it (iampolicy.AllowsCertainly with the grant's action
// and resource), added otherwise (there should be none, unless the current
// policies never allowed an observed call); a current Allow statement's
// grant is removed unless the suggestion names it as is.
func Compare(cur Current, s Suggestion) (Diff, error) {
	eff, err := cur.Effective()
	if err != nil {
		return Diff{}, fmt.Errorf("the current policies: %w", err)
	}
	doc, err := iampolicy.Parse(string(s.Policy))
	if err != nil {
		return Diff{}, fmt.Errorf("the suggested policy: %w", err)
	}
	d := Diff{Principal: s.Principal}
	for _, m := range cur.Attached {
		d.Policies = append(d.Policies, m.ARN)
	}
	for _, in := range cur.Inline {
		d.Policies = append(d.Policies, "inline:"+in.Name)
	}
	for _, g := range cur.Groups {
		d.Groups = append(d.Groups, g.Name)
	}
	by := map[string]*ServiceDiff{}
	at := func(action string) *ServiceDiff {
		svc := service(action)
		if by[svc] == nil {
			by[svc] = &ServiceDiff{Service: svc}
		}
		return by[svc]
	}
	suggested := map[[2]string]bool{}
	for _, g := range grants(doc.Statements, "suggested") {
		suggested[[2]string{strings.ToLower(g.Action), g.Resource}] = true
		sd := at(g.Action)
		if iampolicy.AllowsCertainly(eff, g.Action, g.Resource) {
			sd.Unchanged = append(sd.Unchanged, g)
		} else {
			sd.Added = append(sd.Added, g)
		}
	}
	for _, r := range eff.Allow {
		for _, g := range grants([]iampolicy.Statement{r.Statement}, r.Source) {
			if !suggested[[2]string{strings.ToLower(g.Action), g.Resource}] {
				at(g.Action).Removed = append(at(g.Action).Removed, g)
			}
		}
	}
	for _, sd := range by {
		for _, l := range [][]Grant{sd.Removed, sd.Added, sd.Unchanged} {
			sortGrants(l)
		}
		d.Services = append(d.Services, *sd)
	}
	sort.Slice(d.Services, func(i, j int) bool { return d.Services[i].Service < d.Services[j].Service })
	return d, nil
}

// grants spreads Allow statements into action x resource pairs (NotAction
// as "NOT a,b"; NotResource as "NOT r").
func grants(ss []iampolicy.Statement, source string) []Grant {
	var out []Grant
	for _, s := range ss {
		if s.Effect != iampolicy.Allow {
			continue
		}
		actions, resources := s.Action, s.Resource
		if len(s.NotAction) > 0 {
			actions = []string{"NOT " + strings.Join(s.NotAction, ",")}
		}
		if len(s.NotResource) > 0 {
			resources = []string{"NOT " + strings.Join(s.NotResource, ",")}
		}
		for _, a := range actions {
			for _, r := range resources {
				g := Grant{Action: a, Resource: r, Source: source}
				if s.Conditional() {
					g.Source += " (conditional)"
				}
				out = append(out, g)
			}
		}
	}
	return out
}

func sortGrants(l []Grant) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].Action != l[j].Action {
			return l[i].Action < l[j].Action
		}
		if l[i].Resource != l[j].Resource {
			return l[i].Resource < l[j].Resource
		}
		return l[i].Source < l[j].Source
	})
}

// Counts are the diff's totals.
func (d Diff) Counts() (removed, added, unchanged int) {
	for _, s := range d.Services {
		removed, added, unchanged = removed+len(s.Removed), added+len(s.Added), unchanged+len(s.Unchanged)
	}
	return
}
