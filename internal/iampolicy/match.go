package iampolicy

import "strings"

// glob reports whether s matches pattern, where '*' matches any run of
// characters and '?' exactly one. It runs in O(len(pattern)*len(s)) at worst
// (no recursion), so hostile patterns cannot blow up.
func glob(pattern, s string) bool {
	return wildcard([]rune(pattern), []rune(s), func(p, c rune) bool {
		return p == '?' || p == c
	})
}

// covers reports whether every string matched by pattern p is also matched
// by pattern q. q's '*' may absorb anything in p (wildcards included); q's '?'
// stands for one concrete character, so it cannot absorb p's '*'; q's literals
// match only the same literal. This is sound (never claims containment that
// does not hold) though not complete.
func covers(q, p string) bool {
	return wildcard([]rune(q), []rune(p), func(qc, pc rune) bool {
		switch pc {
		case '*':
			return false
		case '?':
			return qc == '?'
		}
		return qc == '?' || qc == pc
	})
}

// wildcard is the classic greedy matcher with single-star backtracking: the
// segments between stars are matched leftmost-first, which is optimal for any
// per-character predicate.
func wildcard(p, s []rune, one func(p, c rune) bool) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && one(p[pi], s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchAction reports whether an action pattern ("iam:Create*") matches a
// concrete action ("iam:CreateUser"). IAM compares actions case-insensitively.
func matchAction(pattern, action string) bool {
	return glob(strings.ToLower(pattern), strings.ToLower(action))
}

// anyAction reports whether any pattern matches action.
func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if matchAction(p, action) {
			return true
		}
	}
	return false
}

// universalAction reports whether an action pattern matches every action:
// "*", "*:*", "**" and the like. Every action has exactly one colon, so only
// stars and at most one colon may remain.
func universalAction(pattern string) bool {
	rest := strings.ReplaceAll(pattern, "*", "")
	return pattern != "" && (rest == "" || (rest == ":" && strings.HasPrefix(pattern, "*") && strings.HasSuffix(pattern, "*")))
}

// universalResource reports whether a resource pattern matches every
// resource: "*", or an ARN pattern whose fields after the partition are all
// stars ("arn:aws:*", "arn:*:*:*:*:*").
func universalResource(pattern string) bool {
	if pattern != "" && strings.Trim(pattern, "*") == "" {
		return true
	}
	fields := strings.Split(pattern, ":")
	if len(fields) < 2 || fields[0] != "arn" {
		return false
	}
	last := fields[len(fields)-1]
	if last == "" || strings.Trim(last, "*") != "" {
		return false // "arn:aws" alone is not a pattern for anything
	}
	for _, f := range fields[2:] {
		if f == "" || strings.Trim(f, "*") != "" {
			return false
		}
	}
	return true
}

func anyUniversal(patterns []string, universal func(string) bool) bool {
	for _, p := range patterns {
		if universal(p) {
			return true
		}
	}
	return false
}
