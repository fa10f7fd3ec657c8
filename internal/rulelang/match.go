package detect

import (
	"net/netip"
	"regexp"
	"strings"
)

// urMatcher judges the values of one field (several when the path crosses a
// list). Positive matchers hold when any value matches; exists and not look
// at the field as a whole. Both keywarden YAML rules and Sigma compile to
// these, so the two rule languages share one tested evaluator.
type urMatcher interface {
	match(vals []string, exists bool) bool
}

// urFold lowers s when a comparison is case-insensitive (Sigma's default).
func urFold(s string, ci bool) string {
	if ci {
		return strings.ToLower(s)
	}
	return s
}

type urStrOp int

const (
	urOpEquals urStrOp = iota
	urOpPrefix
	urOpSuffix
	urOpContains
)

// urStrMatcher compares against one literal; want is pre-folded.
type urStrMatcher struct {
	op   urStrOp
	want string
	ci   bool
}

func (m urStrMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if m.op == urOpEquals && m.ci {
			if strings.EqualFold(v, m.want) {
				return true
			}
			continue
		}
		v = urFold(v, m.ci)
		var ok bool
		switch m.op {
		case urOpEquals:
			ok = v == m.want
		case urOpPrefix:
			ok = strings.HasPrefix(v, m.want)
		case urOpSuffix:
			ok = strings.HasSuffix(v, m.want)
		case urOpContains:
			ok = strings.Contains(v, m.want)
		}
		if ok {
			return true
		}
	}
	return false
}

// urInMatcher is equality with any of a set, by map lookup so long lists
// (key ids, say) stay cheap.
type urInMatcher struct {
	set map[string]struct{}
	ci  bool
}

func urNewIn(vals []string, ci bool) urInMatcher {
	m := urInMatcher{set: make(map[string]struct{}, len(vals)), ci: ci}
	for _, v := range vals {
		m.set[urFold(v, ci)] = struct{}{}
	}
	return m
}

func (m urInMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if _, ok := m.set[urFold(v, m.ci)]; ok {
			return true
		}
	}
	return false
}

type urRegexMatcher struct{ re *regexp.Regexp }

func (m urRegexMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if m.re.MatchString(v) {
			return true
		}
	}
	return false
}

type urCidrMatcher struct{ nets []netip.Prefix }

func (m urCidrMatcher) match(vals []string, _ bool) bool {
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

func urParseCIDR(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type urExistsMatcher struct{ want bool }

func (m urExistsMatcher) match(_ []string, exists bool) bool { return exists == m.want }

// urNullMatcher is Sigma's `field: null`: absent or empty.
type urNullMatcher struct{}

func (urNullMatcher) match(vals []string, exists bool) bool {
	for _, v := range vals {
		if v != "" {
			return false
		}
	}
	return true
}

type urNotMatcher struct{ m urMatcher }

func (m urNotMatcher) match(vals []string, exists bool) bool { return !m.m.match(vals, exists) }

type urAnyMatcher []urMatcher

func (ms urAnyMatcher) match(vals []string, exists bool) bool {
	for _, m := range ms {
		if m.match(vals, exists) {
			return true
		}
	}
	return false
}

type urAllMatcher []urMatcher

func (ms urAllMatcher) match(vals []string, exists bool) bool {
	for _, m := range ms {
		if !m.match(vals, exists) {
			return false
		}
	}
	return true
}

// urGlobMatcher is a Sigma value with * and ? wildcards; pattern is
// pre-folded and split so matching is linear-time greedy, never
// backtracking exponentially on hostile input.
type urGlobMatcher struct {
	pattern []rune
	ci      bool
}

func (m urGlobMatcher) match(vals []string, _ bool) bool {
	for _, v := range vals {
		if urGlobMatch(m.pattern, []rune(urFold(v, m.ci))) {
			return true
		}
	}
	return false
}

// globWild marks an unescaped wildcard in a glob pattern; escaped * and ?
// are kept as literals, so wildcards get private-use runes.
const (
	urGlobStar = '\uE000'
	urGlobOne  = '\uE001'
)

// urGlobMatch is the classic two-pointer wildcard match: on mismatch it
// resumes after the last star, which is O(len(p)*len(s)) at worst.
func urGlobMatch(p, s []rune) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == urGlobOne || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == urGlobStar:
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
	for pi < len(p) && p[pi] == urGlobStar {
		pi++
	}
	return pi == len(p)
}

// urCond is a boolean test of one record: a field matcher, or and/or/not of
// others.
type urCond interface {
	eval(r *urRecord) bool
}

type urFieldCond struct {
	path string
	m    urMatcher
}

func (c urFieldCond) eval(r *urRecord) bool {
	vals, ok := r.values(c.path)
	return c.m.match(vals, ok)
}

type urAndCond []urCond

func (cs urAndCond) eval(r *urRecord) bool {
	for _, c := range cs {
		if !c.eval(r) {
			return false
		}
	}
	return true
}

type urOrCond []urCond

func (cs urOrCond) eval(r *urRecord) bool {
	for _, c := range cs {
		if c.eval(r) {
			return true
		}
	}
	return false
}

type urNotCond struct{ c urCond }

func (c urNotCond) eval(r *urRecord) bool { return !c.c.eval(r) }

type urConstCond bool

func (c urConstCond) eval(*urRecord) bool { return bool(c) }
