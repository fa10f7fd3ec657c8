package detect

import "strings"

// sigmaPattern compiles a Sigma string value: * and ? are wildcards, \* \?
// and \\ escape them, any other backslash is literal (Windows paths). The
// op modifiers add wildcards around the value. Plain shapes become plain
// string tests; only real inner wildcards need the glob matcher.
func sigmaPattern(s, op string, ci bool) urMatcher {
	pat := sigmaGlob(s)
	switch op {
	case "contains":
		pat = append(append([]rune{urGlobStar}, pat...), urGlobStar)
	case "startswith":
		pat = append(pat, urGlobStar)
	case "endswith":
		pat = append([]rune{urGlobStar}, pat...)
	}
	pat = sigmaSquash(pat)
	if ci {
		for i, r := range pat {
			if r != urGlobStar && r != urGlobOne {
				pat[i] = []rune(strings.ToLower(string(r)))[0]
			}
		}
	}
	return sigmaSimplify(pat, ci)
}

// sigmaGlob turns the value into runes with wildcards marked.
func sigmaGlob(s string) []rune {
	in := []rune(s)
	out := make([]rune, 0, len(in))
	for i := 0; i < len(in); i++ {
		switch r := in[i]; {
		case r == '\\' && i+1 < len(in) && (in[i+1] == '*' || in[i+1] == '?' || in[i+1] == '\\'):
			out = append(out, in[i+1])
			i++
		case r == '*':
			out = append(out, urGlobStar)
		case r == '?':
			out = append(out, urGlobOne)
		default:
			out = append(out, r)
		}
	}
	return out
}

// sigmaSquash collapses runs of stars, which match the same as one.
func sigmaSquash(p []rune) []rune {
	out := p[:0]
	for i, r := range p {
		if r == urGlobStar && i > 0 && p[i-1] == urGlobStar {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sigmaSimplify picks the cheapest matcher for the pattern's shape.
func sigmaSimplify(p []rune, ci bool) urMatcher {
	inner := p
	lead := len(inner) > 0 && inner[0] == urGlobStar
	if lead {
		inner = inner[1:]
	}
	trail := len(inner) > 0 && inner[len(inner)-1] == urGlobStar
	if trail {
		inner = inner[:len(inner)-1]
	}
	for _, r := range inner {
		if r == urGlobStar || r == urGlobOne {
			return urGlobMatcher{pattern: p, ci: ci}
		}
	}
	lit := string(inner)
	switch {
	case lead && trail:
		return urStrMatcher{op: urOpContains, want: lit, ci: ci}
	case lead:
		return urStrMatcher{op: urOpSuffix, want: lit, ci: ci}
	case trail:
		return urStrMatcher{op: urOpPrefix, want: lit, ci: ci}
	}
	return urStrMatcher{op: urOpEquals, want: lit, ci: ci}
}
