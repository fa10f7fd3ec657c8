package rulelang

import (
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"
)

// matcher judges the values of one field (several when the path crosses a
// list). Positive matchers hold when any value matches; exists and not look
// at the field as a whole. Both keywarden YAML rules and Sigma compile to
// these, so the two rule languages share one tested evaluator.
type matcher interface {
	match(vals []string, exists bool) bool
}

// fold lowers s when a comparison is case-insensitive (Sigma's default).
func fold(s string, ci bool) string {
	if ci {
		return strings.ToLower(s)
	}
	return s
}

type strOp int

const (
	opEquals strOp = iota
	opPrefix
	opSuffix
	opContains
)

// strMatcher compares against one literal; want is pre-folded.
type strMatcher struct {
	op   strOp
	want string
	ci   bool
}

func (m strMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if m.op == opEquals && m.ci {
			if equalLower(v, m.want) {
				return true
			}
			continue
		}
		v = fold(v, m.ci)
		var ok bool
		switch m.op {
		case opEquals:
			ok = v == m.want
		case opPrefix:
			ok = strings.HasPrefix(v, m.want)
		case opSuffix:
			ok = strings.HasSuffix(v, m.want)
		case opContains:
			ok = strings.Contains(v, m.want)
		}
		if ok {
			return true
		}
	}
	return false
}

// equalLower is strings.ToLower(v) == lower, without building the lowered
// copy while the text is ASCII. strings.EqualFold would be the obvious
// call, but it folds otherwise than the other shapes (it equates ſ with s,
// and not İ with i), so "S" and "S*" would disagree about "ſ".
func equalLower(v, lower string) bool {
	i := 0
	for ; i < len(v) && i < len(lower); i++ {
		c, l := v[i], lower[i]
		if c|l >= utf8.RuneSelf {
			return strings.ToLower(v[i:]) == lower[i:]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != l {
			return false
		}
	}
	return i == len(v) && i == len(lower)
}

// inMatcher is equality with any of a set, by map lookup so long lists
// (key ids, say) stay cheap.
type inMatcher struct {
	set map[string]struct{}
	ci  bool
}

func newIn(vals []string, ci bool) inMatcher {
	m := inMatcher{set: make(map[string]struct{}, len(vals)), ci: ci}
	for _, v := range vals {
		m.set[fold(v, ci)] = struct{}{}
	}
	return m
}

func (m inMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if _, ok := m.set[fold(v, m.ci)]; ok {
			return true
		}
	}
	return false
}

type regexMatcher struct{ re *regexp.Regexp }

func (m regexMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if m.re.MatchString(v) {
			return true
		}
	}
	return false
}

type cidrMatcher struct{ nets []netip.Prefix }

func (m cidrMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		addr, err := netip.ParseAddr(v)
		if err != nil {
			continue // service names ("ec2.amazonaws.com") are not in any network
		}
		addr = addr.Unmap()
		for _, n := range m.nets {
			if n.Contains(addr) {
				return true
			}
		}
	}
	return false
}

func parseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type existsMatcher struct{ want bool }

func (m existsMatcher) match(_ []string, exists bool) bool { return exists == m.want }

// nullMatcher is Sigma's `field: null`: absent or empty.
type nullMatcher struct{}

func (nullMatcher) match(vals []string, exists bool) bool {
	for _, v := range vals {
		if v != "" {
			return false
		}
	}
	return true
}

type notMatcher struct{ m matcher }

func (m notMatcher) match(vals []string, exists bool) bool { return !m.m.match(vals, exists) }

type anyMatcher []matcher

func (ms anyMatcher) match(vals []string, exists bool) bool {
	for _, m := range ms {
		if m.match(vals, exists) {
			return true
		}
	}
	return false
}

type allMatcher []matcher

func (ms allMatcher) match(vals []string, exists bool) bool {
	for _, m := range ms {
		if !m.match(vals, exists) {
			return false
		}
	}
	return true
}

// globMatcher is a Sigma value with * and ? wildcards; pattern is
// pre-folded and split so matching is linear-time greedy, never
// backtracking exponentially on hostile input.
type globMatcher struct {
	pattern []rune
	ci      bool
}

func (m globMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if globMatch(m.pattern, []rune(fold(v, m.ci))) {
			return true
		}
	}
	return false
}

// globStar and globOne mark the unescaped wildcards of a glob pattern;
// escaped * and ? are kept as literals. They are negative, so no rune read
// from text, a rule's or a record's, can pass for one: private-use runes
// did, and a record carrying one could slip past a glob.
const (
	globStar rune = -1
	globOne  rune = -2
)

// globMatch is the classic two-pointer wildcard match: on mismatch it
// resumes after the last star, which is O(len(p)*len(s)) at worst.
func globMatch(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == globOne || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == globStar:
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == globStar {
		pi++
	}
	return pi == len(p)
}

// cond is a boolean test of one record: a field matcher, or and/or/not of
// others.
type cond interface {
	eval(r *record) bool
}

type fieldCond struct {
	path string
	m    matcher
}

func (c fieldCond) eval(r *record) bool {
	vals, ok := r.values(c.path)
	return c.m.match(vals, ok)
}

// fieldRefCond compares one field with another of the same record
// (Sigma's |fieldref): it holds when a value of path matches a value of
// ref; a missing field matches nothing.
type fieldRefCond struct {
	path, ref string
	op        strOp
	ci        bool
}

func (c fieldRefCond) eval(r *record) bool {
	refs, _ := r.values(c.ref)
	vals, _ := r.values(c.path)
	for _, ref := range refs {
		if (strMatcher{op: c.op, want: fold(ref, c.ci), ci: c.ci}).match(vals, true) {
			return true
		}
	}
	return false
}

type andCond []cond

func (cs andCond) eval(r *record) bool {
	for _, c := range cs {
		if !c.eval(r) {
			return false
		}
	}
	return true
}

type orCond []cond

func (cs orCond) eval(r *record) bool {
	for _, c := range cs {
		if c.eval(r) {
			return true
		}
	}
	return false
}

type notCond struct{ c cond }

func (c notCond) eval(r *record) bool { return !c.c.eval(r) }

type constCond bool

func (c constCond) eval(*record) bool { return bool(c) }
