package rulelang

import "strings"

// sigmaPattern compiles a Sigma string value: * and ? are wildcards, \* \?
// and \\ escape them, any other backslash is literal (Windows paths). The
// op modifiers add wildcards around the value. Plain shapes become plain
// string tests; only real inner wildcards need the glob matcher.
func sigmaPattern(s, op string, ci bool) matcher {
	pat := sigmaGlob(s)
	switch op {
	case "contains":
		pat = append(append([]rune{globStar}, pat...), globStar)
	case "startswith":
		pat = append(pat, globStar)
	case "endswith":
		pat = append([]rune{globStar}, pat...)
	}
	pat = sigmaSquash(pat)
	if ci {
		for i, r := range pat {
			if r != globStar && r != globOne {
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
			out = append(out, globStar)
		case r == '?':
			out = append(out, globOne)
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
		if r == globStar && i > 0 && p[i-1] == globStar {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sigmaSimplify picks the cheapest matcher for the pattern's shape.
func sigmaSimplify(p []rune, ci bool) matcher {
	inner := p
	lead := len(inner) > 0 && inner[0] == globStar
	if lead {
		inner = inner[1:]
	}
	trail := len(inner) > 0 && inner[len(inner)-1] == globStar
	if trail {
		inner = inner[:len(inner)-1]
	}
	for _, r := range inner {
		if r == globStar || r == globOne {
			return globMatcher{pattern: p, ci: ci}
		}
	}
	lit := string(inner)
	switch {
	case lead && trail:
		return strMatcher{op: opContains, want: lit, ci: ci}
	case lead:
		return strMatcher{op: opSuffix, want: lit, ci: ci}
	case trail:
		return strMatcher{op: opPrefix, want: lit, ci: ci}
	}
	return strMatcher{op: opEquals, want: lit, ci: ci}
}
