package awskey

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
	var counts [256]int
	var upper, lower, digit int
	for i := 0; i < len(s); i++ {
		c := s[i]
		counts[c]++
		switch {
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		case c >= '0' && c <= '9':
			digit++
		case c == '/' || c == '+' || c == '=':
		default:
			return false
		}
	}
	if upper == 0 || lower == 0 || digit == 0 {
		return false
	}
	return entropy(counts[:], len(s)) >= 4.5
}
