package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"

	"github.com/keywarden/keywarden/internal/iampolicy"
)

// Inline is one inline policy, its document as IAM returns it (decoded from
// the percent-encoding IAM's API adds, otherwise byte for byte).
type Inline struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// Managed is one attached managed policy: for a customer managed policy its
// default version id and that version's document (AWS managed: the document
// only when it could be read).
type Managed struct {
	ARN            string `json:"arn"`
	DefaultVersion string `json:"default_version,omitempty"`
	Document       string `json:"document,omitempty"`
}

// Group is one of a user's groups with its policies: they count in a diff,
// and apply never changes group memberships or group policies.
type Group struct {
	Name     string    `json:"name"`
	Attached []Managed `json:"attached,omitempty"`
	Inline   []Inline  `json:"inline,omitempty"`
}

// Current is what IAM attaches to a principal now, exactly: the snapshot an
// apply journals before its first change and undo puts back.
type Current struct {
	Attached []Managed `json:"attached"`
	Inline   []Inline  `json:"inline"`
	Groups   []Group   `json:"groups,omitempty"`
	Boundary string    `json:"boundary,omitempty"` // permissions boundary ARN, unchanged by apply
}

// Sort orders every list by name, so a snapshot and its fingerprint do not
// depend on the order IAM listed them in.
func (c *Current) Sort() {
	sort.Slice(c.Attached, func(i, j int) bool { return c.Attached[i].ARN < c.Attached[j].ARN })
	sort.Slice(c.Inline, func(i, j int) bool { return c.Inline[i].Name < c.Inline[j].Name })
	sort.Slice(c.Groups, func(i, j int) bool { return c.Groups[i].Name < c.Groups[j].Name })
	for i := range c.Groups {
		g := &c.Groups[i]
		sort.Slice(g.Attached, func(i, j int) bool { return g.Attached[i].ARN < g.Attached[j].ARN })
		sort.Slice(g.Inline, func(i, j int) bool { return g.Inline[i].Name < g.Inline[j].Name })
	}
}

// Fingerprint is a short digest of the principal's own policies (attached
// ARNs and default versions, inline names and documents; groups left out
// since apply does not change them): equal fingerprints mean nothing apply
// would change has changed. A suggestion that carries one (Suggestion.
// Fingerprint) is refused by apply once it no longer matches.
func (c Current) Fingerprint() string {
	c.Sort()
	h := sha256.New()
	for _, m := range c.Attached {
		h.Write([]byte("managed\x00" + m.ARN + "\x00" + m.DefaultVersion + "\x00"))
	}
	for _, p := range c.Inline {
		h.Write([]byte("inline\x00" + p.Name + "\x00" + p.Document + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Effective resolves the snapshot with iampolicy (groups included).
func (c Current) Effective() (iampolicy.Effective, error) {
	ps := iampolicy.PolicySet{Boundary: c.Boundary}
	cat := iampolicy.Catalog{Groups: map[string]iampolicy.GroupPolicies{}, Managed: map[string]string{}}
	managed := func(ms []Managed) []string {
		var arns []string
		for _, m := range ms {
			arns = append(arns, m.ARN)
			if m.Document != "" {
				cat.Managed[m.ARN] = m.Document
			}
		}
		return arns
	}
	inline := func(ps []Inline) []iampolicy.InlinePolicy {
		var out []iampolicy.InlinePolicy
		for _, p := range ps {
			out = append(out, iampolicy.InlinePolicy{Name: p.Name, Document: p.Document})
		}
		return out
	}
	ps.Attached, ps.Inline = managed(c.Attached), inline(c.Inline)
	for _, g := range c.Groups {
		ps.Groups = append(ps.Groups, g.Name)
		cat.Groups[g.Name] = iampolicy.GroupPolicies{Attached: managed(g.Attached), Inline: inline(g.Inline)}
	}
	return iampolicy.Resolve(ps, cat)
}

// has reports whether the principal's own attached policies include arn.
func (c Current) has(arn string) bool {
	for _, m := range c.Attached {
		if m.ARN == arn {
			return true
		}
	}
	return false
}

// service is an action's IAM prefix ("s3" for s3:GetObject; "*" for "*").
func service(action string) string {
	if p, _, ok := strings.Cut(action, ":"); ok {
		return strings.ToLower(p)
	}
	return action
}
