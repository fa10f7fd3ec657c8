// Package rulelang is keywarden's user rule language: rules files in
// keywarden's YAML and Sigma rules for aws/cloudtrail, loaded, checked and
// compiled into one detect.Detector that watch runs beside the built-in
// rules. Both languages compile to one evaluator (match.go) over the fields
// of the raw CloudTrail record (field.go).
package rulelang

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keywarden/keywarden/internal/severity"
)

// Rule is one rule from a keywarden rules file (or a Sigma rule
// compiled to the same shape): a match over the raw CloudTrail record and
// an optional threshold.
type Rule struct {
	ID          string
	Title       string
	Severity    severity.Level
	Technique   string
	Description string
	// Source is where the rule was defined, "file:line".
	Source    string
	Threshold *Threshold

	match cond
}

// Threshold turns a rule into "at least Count matches (or Count distinct
// values of Distinct) within Window, per value of By".
type Threshold struct {
	Count    int
	Distinct string // field path; empty counts events
	Window   time.Duration
	By       string // field path; empty is one group
}

// ParseError is a rule file problem at a line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// parser carries the file name into every error.
type parser struct{ file string }

func (p parser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a keywarden rules file: a mapping with a "rules"
// list. Every problem is reported with its line; unknown keys are refused
// so a typo never silently weakens a rule.
func Parse(file string, data []byte) ([]*Rule, error) {
	p := parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, p.errf(top, "want a mapping with a rules list")
	}
	var rulesNode *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k := top.Content[i]; k.Value != "rules" {
			return nil, p.errf(k, "unknown key %q (want rules)", k.Value)
		}
		rulesNode = top.Content[i+1]
	}
	if rulesNode == nil || rulesNode.Kind != yaml.SequenceNode {
		return nil, p.errf(top, "rules: want a list of rules")
	}
	var out []*Rule
	var errs []error
	seen := map[string]int{}
	for _, rn := range rulesNode.Content {
		r, err := p.rule(rn)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if line, dup := seen[r.ID]; dup {
			errs = append(errs, p.errf(rn, "rule %s: id already used at line %d", r.ID, line))
			continue
		}
		seen[r.ID] = rn.Line
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (p parser) rule(n *yaml.Node) (*Rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "rule: want a mapping")
	}
	r := &Rule{Severity: severity.Medium, Source: fmt.Sprintf("%s:%d", p.file, n.Line)}
	var matchNode, thNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "id":
			r.ID, err = p.scalar(v, "id")
		case "title":
			r.Title, err = p.scalar(v, "title")
		case "technique":
			r.Technique, err = p.scalar(v, "technique")
		case "description":
			r.Description, err = p.scalar(v, "description")
		case "severity":
			var s string
			if s, err = p.scalar(v, "severity"); err == nil {
				if r.Severity, err = severity.Parse(s); err != nil {
					err = p.errf(v, "severity: %v", err)
				}
			}
		case "match":
			matchNode = v
		case "threshold":
			thNode = v
		default:
			err = p.errf(k, "unknown key %q in rule", k.Value)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.ID == "" {
		return nil, p.errf(n, "rule without id")
	}
	if r.Title == "" {
		r.Title = r.ID
	}
	if matchNode == nil {
		return nil, p.errf(n, "rule %s: no match block", r.ID)
	}
	var err error
	if r.match, err = p.matchBlock(matchNode); err != nil {
		return nil, fmt.Errorf("rule %s: %w", r.ID, err)
	}
	if thNode != nil {
		if r.Threshold, err = p.threshold(thNode); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
	}
	return r, nil
}

func (p parser) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errf(n, "%s: want a value", what)
	}
	return n.Value, nil
}

// matchBlock is a mapping of field path to matcher, all of which must hold;
// any_of and all_of take lists of further match blocks.
func (p parser) matchBlock(n *yaml.Node) (cond, error) {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nil, p.errf(n, "match: want a mapping of field to matcher")
	}
	var all andCond
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "any_of", "all_of":
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				return nil, p.errf(v, "%s: want a list of match blocks", k.Value)
			}
			var subs []cond
			for _, sn := range v.Content {
				c, err := p.matchBlock(sn)
				if err != nil {
					return nil, err
				}
				subs = append(subs, c)
			}
			if k.Value == "any_of" {
				all = append(all, orCond(subs))
			} else {
				all = append(all, andCond(subs))
			}
		default:
			if err := checkPath(k.Value); err != nil {
				return nil, p.errf(k, "field %q: %v", k.Value, err)
			}
			m, err := p.fieldMatcher(v, k.Value)
			if err != nil {
				return nil, err
			}
			all = append(all, fieldCond{path: k.Value, m: m})
		}
	}
	return all, nil
}

// checkPath refuses paths with empty segments ("a..b", ".a").
func checkPath(path string) error {
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return errors.New("empty path segment")
		}
	}
	return nil
}

// fieldMatcher compiles one field's matcher: a bare value means equals; a
// mapping may hold several matchers, all of which must hold.
func (p parser) fieldMatcher(n *yaml.Node, field string) (matcher, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := p.scalar(n, field)
		return strMatcher{op: opEquals, want: s}, err
	}
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return nil, p.errf(n, "%s: want a value or a matcher like {equals: x}", field)
	}
	var all allMatcher
	for i := 0; i+1 < len(n.Content); i += 2 {
		m, err := p.oneMatcher(n.Content[i], n.Content[i+1], field)
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

func (p parser) oneMatcher(k, v *yaml.Node, field string) (matcher, error) {
	what := field + "." + k.Value
	switch k.Value {
	case "equals", "prefix", "suffix", "contains":
		s, err := p.scalar(v, what)
		op := map[string]strOp{"equals": opEquals, "prefix": opPrefix, "suffix": opSuffix, "contains": opContains}[k.Value]
		return strMatcher{op: op, want: s}, err
	case "in":
		vals, err := p.list(v, what)
		return newIn(vals, false), err
	case "regex":
		s, err := p.scalar(v, what)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, p.errf(v, "%s: %v", what, err)
		}
		return regexMatcher{re: re}, nil
	case "cidr":
		return p.cidr(v, what)
	case "exists":
		var b bool
		if v.Kind != yaml.ScalarNode || v.Decode(&b) != nil {
			return nil, p.errf(v, "%s: want true or false", what)
		}
		return existsMatcher{want: b}, nil
	case "not":
		m, err := p.fieldMatcher(v, field)
		return notMatcher{m: m}, err
	case "any_of", "all_of":
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return nil, p.errf(v, "%s: want a list of matchers", what)
		}
		var ms []matcher
		for _, sn := range v.Content {
			m, err := p.fieldMatcher(sn, field)
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		if k.Value == "any_of" {
			return anyMatcher(ms), nil
		}
		return allMatcher(ms), nil
	}
	return nil, p.errf(k, "%s: unknown matcher %q (want equals, in, prefix, suffix, contains, regex, cidr, exists, not, any_of, all_of)", field, k.Value)
}

// list takes a sequence of values, or one value.
func (p parser) list(n *yaml.Node, what string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		s, err := p.scalar(n, what)
		return []string{s}, err
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, p.errf(n, "%s: want a list of values", what)
	}
	out := make([]string, 0, len(n.Content))
	for _, e := range n.Content {
		s, err := p.scalar(e, what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p parser) cidr(n *yaml.Node, what string) (matcher, error) {
	vals, err := p.list(n, what)
	if err != nil {
		return nil, err
	}
	m := cidrMatcher{}
	for _, s := range vals {
		pfx, err := parseCIDR(s)
		if err != nil {
			return nil, p.errf(n, "%s: %q is not an address or network", what, s)
		}
		m.nets = append(m.nets, pfx)
	}
	return m, nil
}
