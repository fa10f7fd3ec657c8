package rulelang

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/keywarden/keywarden/internal/severity"
)

// SigmaSkip reports a Sigma rule keywarden does not run: another log
// source, or a feature outside the supported subset. Loading goes on.
type SigmaSkip struct {
	File    string
	Rule    string // the rule's id, or its title when it has none
	Feature string
}

func (e *SigmaSkip) Error() string {
	return fmt.Sprintf("%s: sigma rule %s skipped: %s", e.File, e.Rule, e.Feature)
}

// sigmaDoc is the part of a Sigma rule keywarden reads; the rest (status,
// author, references, falsepositives...) is ignored.
type sigmaDoc struct {
	Title       string    `yaml:"title"`
	ID          string    `yaml:"id"`
	Level       string    `yaml:"level"`
	Description string    `yaml:"description"`
	Tags        []string  `yaml:"tags"`
	LogSource   yaml.Node `yaml:"logsource"`
	Detection   yaml.Node `yaml:"detection"`
}

var sigmaLevels = map[string]severity.Level{
	"informational": severity.Info, "low": severity.Low, "medium": severity.Medium,
	"high": severity.High, "critical": severity.Critical,
}

// IsSigma reports whether a YAML document looks like a Sigma rule (it has a
// top-level detection), as opposed to a keywarden rules file.
func IsSigma(data []byte) bool {
	var top map[string]yaml.Node
	if yaml.Unmarshal(data, &top) != nil {
		return false
	}
	_, ok := top["detection"]
	return ok
}

// ParseSigma compiles one Sigma rule for logsource aws/cloudtrail into a
// Rule with id "SIGMA-<id>". Rules outside the supported subset return
// a *SigmaSkip naming the feature.
func ParseSigma(file string, data []byte) (*Rule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc sigmaDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, &SigmaSkip{File: file, Rule: "?", Feature: "unreadable yaml: " + err.Error()}
	}
	name := doc.ID
	if name == "" {
		name = doc.Title
	}
	skip := func(format string, args ...any) error {
		return &SigmaSkip{File: file, Rule: name, Feature: fmt.Sprintf(format, args...)}
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, skip("multi-document rule (action: global/repeat)")
	}
	if doc.ID == "" {
		return nil, skip("no id")
	}
	if f := sigmaLogSource(&doc.LogSource); f != "" {
		return nil, skip("%s", f)
	}
	r := &Rule{ID: "SIGMA-" + doc.ID, Title: doc.Title, Description: doc.Description,
		Severity: severity.Medium, Source: file, Technique: sigmaTechnique(doc.Tags)}
	if r.Title == "" {
		r.Title = r.ID
	}
	if doc.Level != "" {
		lv, ok := sigmaLevels[strings.ToLower(doc.Level)]
		if !ok {
			return nil, skip("level %q", doc.Level)
		}
		r.Severity = lv
	}
	c, err := sigmaDetection(&doc.Detection)
	if err != nil {
		return nil, skip("%v", err)
	}
	r.match = c
	return r, nil
}

// sigmaLogSource names what is wrong with a logsource, or returns "".
func sigmaLogSource(n *yaml.Node) string {
	var ls map[string]string
	if n.Kind == 0 || n.Decode(&ls) != nil {
		return "logsource missing or not a mapping"
	}
	if !strings.EqualFold(ls["product"], "aws") || !strings.EqualFold(ls["service"], "cloudtrail") {
		return fmt.Sprintf("logsource product=%q service=%q (want aws/cloudtrail)", ls["product"], ls["service"])
	}
	return ""
}

// sigmaTechnique returns the first ATT&CK technique tag, attack.t1078.004
// becoming T1078.004.
func sigmaTechnique(tags []string) string {
	for _, t := range tags {
		id, ok := strings.CutPrefix(strings.ToLower(t), "attack.t")
		if ok && id != "" && id[0] >= '0' && id[0] <= '9' {
			return "T" + strings.ToUpper(id)
		}
	}
	return ""
}

// sigmaDetection compiles the named selections and the condition.
func sigmaDetection(n *yaml.Node) (cond, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("detection is not a mapping")
	}
	sel := map[string]cond{}
	var condNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "condition":
			condNode = v
		case "timeframe":
			return nil, errors.New("timeframe (correlation)")
		default:
			c, err := sigmaSelection(v)
			if err != nil {
				return nil, fmt.Errorf("selection %s: %w", k, err)
			}
			sel[k] = c
		}
	}
	if condNode == nil {
		return nil, errors.New("no condition")
	}
	var conds []string
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []string{condNode.Value}
	case yaml.SequenceNode: // a list of conditions is their or (Sigma v1)
		if condNode.Decode(&conds) != nil {
			return nil, errors.New("condition list is not a list of strings")
		}
	default:
		return nil, errors.New("condition is not a string")
	}
	var or orCond
	for _, s := range conds {
		c, err := sigmaParseCondition(s, sel)
		if err != nil {
			return nil, fmt.Errorf("condition: %w", err)
		}
		or = append(or, c)
	}
	if len(or) == 1 {
		return or[0], nil
	}
	return or, nil
}

// sigmaSelection compiles a selection: a mapping is the and of its fields;
// a list of mappings is their or. A list of bare values would be a keyword
// search over the whole event, which has no meaning for CloudTrail fields.
func sigmaSelection(n *yaml.Node) (cond, error) {
	switch n.Kind {
	case yaml.MappingNode:
		var and andCond
		for i := 0; i+1 < len(n.Content); i += 2 {
			c, err := sigmaField(n.Content[i].Value, n.Content[i+1])
			if err != nil {
				return nil, err
			}
			and = append(and, c)
		}
		return and, nil
	case yaml.SequenceNode:
		var or orCond
		for _, e := range n.Content {
			if e.Kind != yaml.MappingNode {
				return nil, errors.New("keyword search (list of bare values)")
			}
			c, err := sigmaSelection(e)
			if err != nil {
				return nil, err
			}
			or = append(or, c)
		}
		return or, nil
	}
	return nil, errors.New("keyword search (bare value)")
}

// sigmaModifiers is the subset of value modifiers keywarden supports.
type sigmaModifiers struct {
	op         string // "", contains, startswith, endswith, re, cidr, exists
	all, cased bool
	fieldref   bool // the values name other fields, whose values are compared
	reFlags    string
}

func sigmaParseKey(key string) (string, sigmaModifiers, error) {
	parts := strings.Split(key, "|")
	var m sigmaModifiers
	field := parts[0]
	if field == "" {
		return "", m, errors.New("keyword search (field-less modifier)")
	}
	if err := checkPath(field); err != nil {
		return "", m, fmt.Errorf("field %q: %w", field, err)
	}
	for _, mod := range parts[1:] {
		switch mod = strings.ToLower(mod); mod {
		case "contains", "startswith", "endswith", "re", "cidr", "exists":
			if m.op != "" {
				return "", m, fmt.Errorf("modifiers %s and %s together", m.op, mod)
			}
			m.op = mod
		case "fieldref":
			m.fieldref = true
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "i", "m", "s":
			if m.op != "re" {
				return "", m, fmt.Errorf("modifier %s outside re", mod)
			}
			m.reFlags += mod
		default:
			return "", m, fmt.Errorf("modifier |%s", mod)
		}
	}
	return field, m, nil
}

// sigmaField compiles "field|modifiers: value(s)".
func sigmaField(key string, v *yaml.Node) (cond, error) {
	field, mods, err := sigmaParseKey(key)
	if err != nil {
		return nil, err
	}
	var vals []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		vals = []*yaml.Node{v}
	case yaml.SequenceNode:
		vals = v.Content
	default:
		return nil, fmt.Errorf("field %s: value is not a scalar or list", field)
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("field %s: empty value list", field)
	}
	if mods.fieldref {
		return sigmaFieldRef(field, mods, vals)
	}
	ms := make([]matcher, 0, len(vals))
	for _, vn := range vals {
		if vn.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("field %s: nested value", field)
		}
		m, err := sigmaValue(field, mods, vn)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if len(ms) == 1 {
		return fieldCond{path: field, m: ms[0]}, nil
	}
	if mods.all {
		return fieldCond{path: field, m: allMatcher(ms)}, nil
	}
	return fieldCond{path: field, m: anyMatcher(ms)}, nil
}

// sigmaFieldRef compiles "field|fieldref: other": field's value compared
// with other's in the same record (equal, or contains/startswith/endswith
// it), case-insensitively unless |cased.
func sigmaFieldRef(field string, mods sigmaModifiers, vals []*yaml.Node) (cond, error) {
	op, ok := map[string]strOp{"": opEquals, "contains": opContains, "startswith": opPrefix, "endswith": opSuffix}[mods.op]
	if !ok {
		return nil, fmt.Errorf("field %s: |fieldref with |%s", field, mods.op)
	}
	var cs []cond
	for _, vn := range vals {
		if vn.Kind != yaml.ScalarNode || checkPath(vn.Value) != nil {
			return nil, fmt.Errorf("field %s: |fieldref wants field names", field)
		}
		cs = append(cs, fieldRefCond{path: field, ref: vn.Value, op: op, ci: !mods.cased})
	}
	if len(cs) == 1 {
		return cs[0], nil
	}
	if mods.all {
		return andCond(cs), nil
	}
	return orCond(cs), nil
}

// sigmaValue compiles one value under the modifiers.
func sigmaValue(field string, mods sigmaModifiers, vn *yaml.Node) (matcher, error) {
	if vn.Tag == "!!null" {
		if mods.op != "" {
			return nil, fmt.Errorf("field %s: null with |%s", field, mods.op)
		}
		return nullMatcher{}, nil
	}
	s := vn.Value
	switch mods.op {
	case "re":
		re, err := regexp.Compile(sigmaReFlags(mods.reFlags) + s)
		if err != nil {
			return nil, fmt.Errorf("field %s: regex: %w", field, err)
		}
		return regexMatcher{re: re}, nil
	case "cidr":
		p, err := parseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("field %s: %q is not a network", field, s)
		}
		return cidrMatcher{nets: []netip.Prefix{p}}, nil
	case "exists":
		var b bool
		if vn.Decode(&b) != nil {
			return nil, fmt.Errorf("field %s: |exists wants true or false", field)
		}
		return existsMatcher{want: b}, nil
	}
	return sigmaPattern(s, mods.op, !mods.cased), nil
}

func sigmaReFlags(f string) string {
	if f == "" {
		return ""
	}
	return "(?" + f + ")"
}
