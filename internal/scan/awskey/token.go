package awskey

import "strings"

// MinTokenLen is the shortest run of base64 taken for a session token. STS
// tokens are several hundred characters; 100 keeps ordinary base64 values
// (hashes, 40-character secrets, short ids) out.
const MinTokenLen = 100

// LooksLikeToken reports whether s, a run of the base64 alphabet (with optional
// '=' padding), has the shape of an STS session token: long, mixed case with
// digits, and not a repetition of a few characters.
func LooksLikeToken(s string) bool {
	if len(s) < MinTokenLen {
		return false
	}
	cl, ok := classify(s, "/+=")
	if !ok || cl.upper == 0 || cl.lower == 0 || cl.digit == 0 {
		return false
	}
	return entropy(cl.counts[:], len(s)) >= 4.5
}

// classes counts the character classes of a candidate and each byte's occurrences.
type classes struct {
	upper, lower, digit, other int
	counts                     [256]int
}

// classify counts s's classes; ok is false when s holds a byte that is neither
// a letter, a digit nor one of others.
func classify(s, others string) (cl classes, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		cl.counts[c]++
		switch {
		case c >= 'A' && c <= 'Z':
			cl.upper++
		case c >= 'a' && c <= 'z':
			cl.lower++
		case c >= '0' && c <= '9':
			cl.digit++
		case strings.IndexByte(others, c) >= 0:
			cl.other++
		default:
			return cl, false
		}
	}
	return cl, true
}
