package awskey

import (
	"math"
	"strings"
)

// SecretLen is the length of a secret access key.
const SecretLen = 40

// IsSecretChar reports whether c belongs to the secret key alphabet [A-Za-z0-9/+].
func IsSecretChar(c byte) bool { return IsAlnum(c) || c == '/' || c == '+' }

// placeholderWords are words people type where a secret goes. Each is long
// enough (5+ letters, case-insensitive) that a random secret holds one about
// once in a million.
var placeholderWords = []string{
	"example", "placeholder", "changeme", "redacted", "secret", "accesskey",
	"yourkey", "xxxxx", "dummy", "sample", "abcdef", "123456",
}

// LooksLikeSecret reports whether s, 40 characters of the secret alphabet, has
// the shape of a real secret access key: the output of a random generator over
// 64 symbols. It refuses what other 40-character strings look like: hex
// digests (one case only), identifiers and words (no digits or symbols, low
// entropy), paths, typed placeholders and AWS's documentation example.
func LooksLikeSecret(s string) bool {
	if len(s) != SecretLen {
		return false
	}
	cl, ok := classify(s, "/+")
	if !ok {
		return false
	}
	upper, lower, digit, sym, slash := cl.upper, cl.lower, cl.digit, cl.other, cl.counts['/']
	// A random secret has ~16 of each letter case; fewer than 3 of either is
	// a digest or a word. One in ~4000 secrets has no digit nor symbol: then
	// both cases must be plentiful, which CamelCase identifiers are not.
	if upper < 3 || lower < 3 || slash > 6 {
		return false
	}
	if digit+sym == 0 && (upper < 10 || lower < 10) {
		return false
	}
	if entropy(cl.counts[:], len(s)) < 4.0 || longRepeat(s, 4) {
		return false
	}
	l := strings.ToLower(s)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return false
		}
	}
	return true
}

// entropy is the Shannon entropy, in bits per symbol, of n bytes with these counts.
// Random 40-character base64 scores ~4.8; words and placeholders well below 4.
func entropy(counts []int, n int) float64 {
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / float64(n)
			h -= p * math.Log2(p)
		}
	}
	return h
}
