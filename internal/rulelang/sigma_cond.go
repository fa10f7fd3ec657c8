package rulelang

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Sigma conditions combine named selections:
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | ("1" | "any" | "all") "of" (pattern | "them") | name
//
// so not binds tighter than and, and tighter than or, as in the Sigma spec.

// sigmaMaxCondition bounds condition text and nesting so hostile rules
// cannot exhaust the stack.
const (
	sigmaMaxCondition = 4096
	sigmaMaxDepth     = 64
)

// errSigmaAggregation marks the "| count() by x" pipe of Sigma v1
// correlations, which is a feature to skip, not a syntax error.
var errSigmaAggregation = errors.New("aggregation pipe (| count() ...)")

type sigmaCondParser struct {
	toks  []string
	pos   int
	sel   map[string]cond
	names []string // sorted, for "of" patterns
	depth int
}

// sigmaParseCondition compiles condition over the named selections.
func sigmaParseCondition(cond string, sel map[string]cond) (cond, error) {
	if len(cond) > sigmaMaxCondition {
		return nil, fmt.Errorf("condition longer than %d characters", sigmaMaxCondition)
	}
	if strings.Contains(cond, "|") {
		return nil, errSigmaAggregation
	}
	p := &sigmaCondParser{toks: sigmaTokens(cond), sel: sel}
	for n := range sel {
		p.names = append(p.names, n)
	}
	sort.Strings(p.names)
	if len(p.toks) == 0 {
		return nil, errors.New("empty condition")
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in condition", p.toks[p.pos])
	}
	return c, nil
}

// sigmaTokens splits on spaces and parentheses.
func sigmaTokens(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case r == '(' || r == ')':
			flush(i)
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush(i)
		case start < 0:
			start = i
		}
	}
	flush(len(s))
	return toks
}

func (p *sigmaCondParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *sigmaCondParser) or() (cond, error) {
	return p.chain("or", p.and, func(cs []cond) cond { return orCond(cs) })
}

func (p *sigmaCondParser) and() (cond, error) {
	return p.chain("and", p.unary, func(cs []cond) cond { return andCond(cs) })
}

// chain parses next { op next }.
func (p *sigmaCondParser) chain(op string, next func() (cond, error), join func([]cond) cond) (cond, error) {
	first, err := next()
	if err != nil {
		return nil, err
	}
	cs := []cond{first}
	for p.peek() == op {
		p.pos++
		c, err := next()
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	if len(cs) == 1 {
		return first, nil
	}
	return join(cs), nil
}

func (p *sigmaCondParser) unary() (cond, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > sigmaMaxDepth {
		return nil, errors.New("condition nested too deeply")
	}
	if p.peek() == "not" {
		p.pos++
		c, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notCond{c: c}, nil
	}
	return p.primary()
}

func (p *sigmaCondParser) primary() (cond, error) {
	tok := p.peek()
	switch tok {
	case "":
		return nil, errors.New("condition ends too early")
	case "(":
		p.pos++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, errors.New("unbalanced parenthesis in condition")
		}
		p.pos++
		return c, nil
	case ")", "and", "or", "of":
		return nil, fmt.Errorf("unexpected %q in condition", p.toks[p.pos])
	case "1", "any", "all":
		if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1], "of") {
			return p.quantifier(tok)
		}
	}
	name := p.toks[p.pos]
	p.pos++
	c, ok := p.sel[name]
	if !ok {
		return nil, fmt.Errorf("condition names unknown selection %q", name)
	}
	return c, nil
}

// quantifier parses "1 of x*", "all of them" and the like.
func (p *sigmaCondParser) quantifier(q string) (cond, error) {
	p.pos += 2
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("%s of what?", q)
	}
	pat := p.toks[p.pos]
	p.pos++
	var cs []cond
	for _, n := range p.names {
		if strings.EqualFold(pat, "them") {
			if !strings.HasPrefix(n, "_") { // the spec leaves _-names out of "them"
				cs = append(cs, p.sel[n])
			}
			continue
		}
		if ok, err := path.Match(pat, n); err != nil {
			return nil, fmt.Errorf("bad pattern %q in condition", pat)
		} else if ok {
			cs = append(cs, p.sel[n])
		}
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%q matches no selection", pat)
	}
	if q == "all" {
		return andCond(cs), nil
	}
	return orCond(cs), nil
}
