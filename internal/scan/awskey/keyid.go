// Package awskey holds the hand-written matchers for AWS key ids, secret keys
// and session tokens, and decodes the account id from a key id.
package awskey

import "strings"

// KeyIDLen is the length of an access key id: a 4-character prefix and 16
// characters of base32 (A-Z, 2-7). AWS draws ids from that alphabet only, so
// a run holding 0, 1, 8 or 9 is never a key id, whatever stands beside it.
const KeyIDLen = 20

// Prefix kinds of access key ids. Only these four prefixes name credentials
// (AWS's "unique identifiers" table: AKIA access key, ASIA temporary STS key,
// ABIA STS service bearer token, ACCA context-specific credential); the other
// four-letter ids IAM hands out (AIDA users, AROA roles, AIPA instance
// profiles, ANPA/ANVA policies and their versions, AGPA groups, APKA public
// keys, ASCA certificates) are unique ids: not secret, not reported.
const (
	KindNone      = iota
	KindLongTerm  // AKIA: a long-term access key of an IAM user or root
	KindTemporary // ASIA: a temporary key from STS, useless without its session token
	KindBearer    // ABIA: an STS service bearer token
	KindContext   // ACCA: a context-specific credential
)

// PrefixKind returns the kind of the 4-byte prefix at the start of b, or
// KindNone. It reads at most 4 bytes.
func PrefixKind(b []byte) int {
	if len(b) < 4 || b[0] != 'A' {
		return KindNone
	}
	switch string(b[1:4]) {
	case "KIA":
		return KindLongTerm
	case "SIA":
		return KindTemporary
	case "BIA":
		return KindBearer
	case "CCA":
		return KindContext
	}
	return KindNone
}

// Prefixes are the four credential prefixes, in kind order.
var Prefixes = []string{"AKIA", "ASIA", "ABIA", "ACCA"}

// IsIDChar reports whether c may appear in the 16 characters after the
// prefix: base32's alphabet.
func IsIDChar(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }

// IsAlnum reports whether c is an ASCII letter or digit: what must not touch a
// key id on either side.
func IsAlnum(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// ParseKeyID reports the kind of the key id at the start of b (which must hold
// at least KeyIDLen bytes): a credential prefix followed by 16 characters of
// base32 that, where the format carries an account, encode a possible one
// (see plausibleAccount). It does not look at the bytes around it.
func ParseKeyID(b []byte) int {
	if len(b) < KeyIDLen {
		return KindNone
	}
	k := PrefixKind(b)
	if k == KindNone {
		return KindNone
	}
	for _, c := range b[4:KeyIDLen] {
		if !IsIDChar(c) {
			return KindNone
		}
	}
	if !plausibleAccount(b[4:KeyIDLen]) {
		return KindNone
	}
	return k
}

// IsPlaceholderID reports whether a well-formed key id is documentation or a
// placeholder rather than a key: AWS's examples all carry "EXAMPLE", and
// placeholders (AKIAXXXXXXXXXXXXXXXX, AKIA0000000000000001, AKIA1234567890ABCDEF)
// have too few distinct characters, long repeats or long ascending runs, which
// random base32 almost never has.
func IsPlaceholderID(id string) bool {
	if len(id) != KeyIDLen {
		return true
	}
	body := id[4:]
	if strings.Contains(body, "EXAMPLE") || strings.Contains(id, "EXAMPLE") {
		return true
	}
	return lowDiversity(body, 7) || longRepeat(body, 5) || longAscending(body, 6)
}

// IsLookalikeID reports whether b starts with something that imitates a key
// id without being one: 20 letters and digits beginning like a credential
// prefix (AK.., AS.., AB.., AC..) but with an invalid prefix (AKIV...),
// characters outside base32 (AKIAS9..., AKIAs9...) or an account of 13
// digits. Found beside a secret, it marks the block as made up. ASCA (certificate ids) is a real id kind and is not a look-alike.
func IsLookalikeID(b []byte) bool {
	if len(b) < KeyIDLen || b[0] != 'A' {
		return false
	}
	switch b[1] {
	case 'K', 'S', 'B', 'C':
	default:
		return false
	}
	for _, c := range b[:KeyIDLen] {
		if !IsAlnum(c) {
			return false
		}
	}
	if string(b[:4]) == "ASCA" {
		return false
	}
	return ParseKeyID(b) == KindNone
}

// IsForeignKeyID reports whether b starts with an access key id of another
// S3-compatible service: 20 upper-case letters and digits, with both, and no
// AWS credential prefix (MinIO's public "play" key Q3AM3UQ867SPQQA43P2F is one).
func IsForeignKeyID(b []byte) bool {
	if len(b) < KeyIDLen || PrefixKind(b) != KindNone {
		return false
	}
	letters, digits := 0, 0
	for _, c := range b[:KeyIDLen] {
		switch {
		case c >= 'A' && c <= 'Z':
			letters++
		case c >= '0' && c <= '9':
			digits++
		default:
			return false
		}
	}
	return letters > 0 && digits > 0
}

// lowDiversity reports whether s has fewer than min distinct bytes.
func lowDiversity(s string, min int) bool {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n < min
}

// longRepeat reports whether s holds n equal bytes in a row.
func longRepeat(s string, n int) bool { return longStep(s, n, 0) }

// longAscending reports whether s holds n bytes in a row each one more than the
// last (0123456, ABCDEFG), the shape of a typed placeholder.
func longAscending(s string, n int) bool { return longStep(s, n, 1) }

// longStep reports whether s holds n bytes in a row, each step more than the last.
func longStep(s string, n int, step byte) bool {
	run := 1
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1]+step {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 1
		}
	}
	return false
}
