package audit

import (
	"fmt"
	"slices"
	"strings"
)

// A CloudWatch Logs JSON filter pattern, `{ ($.eventName = CreateTrail) ||
// ($.eventName = "UpdateTrail") }`, reduced to what the monitoring checks
// (CIS section 4) compare: its disjunctive normal form, a list of clauses,
// each a set of comparisons that must all hold. A pattern matches an event
// when one clause does. Quoting, spacing and the order of terms do not
// change the form, so two patterns saying the same thing compare equal.
//
// && binds tighter than ||, as in the benchmark's own patterns. Patterns
// that are not JSON patterns (plain terms, space-delimited) do not parse:
// the checks treat them as matching nothing they look for.

// term is one comparison: $.eventName = "CreateTrail", $.a NOT EXISTS.
type term struct {
	field string // "$.eventName"
	op    string // "=", "!=", "<", ">", "<=", ">=", "NOT EXISTS", "IS TRUE", ...
	value string // unquoted; "" for the EXISTS / IS forms
}

func (t term) String() string {
	if t.value == "" && (strings.HasPrefix(t.op, "NOT") || strings.HasPrefix(t.op, "IS")) {
		return t.field + " " + t.op
	}
	return fmt.Sprintf("%s %s %q", t.field, t.op, t.value)
}

// clause is a conjunction of terms, sorted and without repeats.
type clause []term

func (c clause) String() string {
	parts := make([]string, len(c))
	for i, t := range c {
		parts[i] = t.String()
	}
	return strings.Join(parts, " && ")
}

// maxClauses bounds the normal form, so a hostile pattern cannot blow it up.
const maxClauses = 4096

// parseFilterPattern returns the normal form of a JSON filter pattern.
func parseFilterPattern(pattern string) ([]clause, error) {
	toks, err := lexPattern(pattern)
	if err != nil {
		return nil, err
	}
	if len(toks) < 2 || toks[0] != "{" || toks[len(toks)-1] != "}" {
		return nil, fmt.Errorf("not a JSON filter pattern (no { ... })")
	}
	p := &patternParser{toks: toks[1 : len(toks)-1]}
	dnf, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return dnf, nil
}

// lexPattern splits a pattern into tokens: braces, parentheses, && and ||,
// comparison operators, and words (selectors, values; a quoted value is
// one token, kept with its quotes so that it is never taken for an
// operator).
func lexPattern(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '{' || c == '}' || c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") || strings.HasPrefix(s[i:], "!=") ||
			strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			toks = append(toks, s[i:i+2])
			i += 2
		case c == '=' || c == '<' || c == '>':
			toks = append(toks, string(c))
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quote")
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r{}()=!<>&|\"", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", s[i])
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

type patternParser struct {
	toks []string
	pos  int
}

func (p *patternParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *patternParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

// or: and { "||" and }.
func (p *patternParser) or() ([]clause, error) {
	out, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek() == "||" {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, right...)
		if len(out) > maxClauses {
			return nil, fmt.Errorf("more than %d alternatives", maxClauses)
		}
	}
	return out, nil
}

// and: primary { "&&" primary }, distributing over the alternatives.
func (p *patternParser) and() ([]clause, error) {
	out, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peek() == "&&" {
		p.next()
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		if len(out)*len(right) > maxClauses {
			return nil, fmt.Errorf("more than %d alternatives", maxClauses)
		}
		var product []clause
		for _, l := range out {
			for _, r := range right {
				product = append(product, conjoin(l, r))
			}
		}
		out = product
	}
	return out, nil
}

// primary: "(" or ")" | comparison.
func (p *patternParser) primary() ([]clause, error) {
	if p.peek() == "(" {
		p.next()
		out, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		return out, nil
	}
	field := p.next()
	if !strings.HasPrefix(field, "$") {
		return nil, fmt.Errorf("want a $. selector, got %q", field)
	}
	op := p.next()
	switch op {
	case "=", "!=", "<", ">", "<=", ">=":
		v := p.next()
		if v == "" || strings.ContainsAny(v[:1], "(){}&|=!<>") {
			return nil, fmt.Errorf("%s %s: missing value", field, op)
		}
		return []clause{{{field: field, op: op, value: unquote(v)}}}, nil
	case "NOT", "IS":
		word := strings.ToUpper(p.next())
		if word == "" {
			return nil, fmt.Errorf("%s %s: incomplete", field, op)
		}
		return []clause{{{field: field, op: op + " " + word}}}, nil
	}
	return nil, fmt.Errorf("%s: want an operator, got %q", field, op)
}

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
	}
	return v
}

// conjoin is the clause holding both l's and r's terms, sorted, no repeats.
func conjoin(l, r clause) clause {
	out := slices.Concat(l, r)
	slices.SortFunc(out, func(a, b term) int { return strings.Compare(a.String(), b.String()) })
	return slices.Compact(out)
}

// covers reports whether filter term f holds whenever required term r does:
// the same comparison, or f an equality whose wildcard value (`Delete*`)
// matches r's value. A value of wildcards alone matches everything and
// covers nothing: an alarm on every event is no alarm.
func (f term) covers(r term) bool {
	if f == r {
		return true
	}
	if f.field != r.field || f.op != "=" || r.op != "=" || !strings.Contains(f.value, "*") ||
		strings.Trim(f.value, "*") == "" {
		return false
	}
	return globMatch(f.value, r.value)
}

// globMatch matches s against pattern, where * stands for any run of
// characters (CloudWatch Logs' only wildcard).
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

// implies reports whether every event matching clause r matches clause f:
// each of f's terms covers one of r's. An empty f would match everything
// and is not taken.
func (f clause) impliedBy(r clause) bool {
	if len(f) == 0 {
		return false
	}
	for _, ft := range f {
		if !slices.ContainsFunc(r, ft.covers) {
			return false
		}
	}
	return true
}

// uncovered lists the clauses of required that no clause of filter
// matches: the events the filter would miss. Empty means the filter
// matches every event required names (it may match more).
func uncovered(filter, required []clause) []clause {
	var out []clause
	for _, r := range required {
		if !slices.ContainsFunc(filter, func(f clause) bool { return f.impliedBy(r) }) {
			out = append(out, r)
		}
	}
	return out
}
