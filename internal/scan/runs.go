package scan

import "github.com/keywarden/keywarden/internal/scan/awskey"

// minRun is the shortest run of the secret alphabet worth a look: base64 of a
// key id is 27 characters, a secret 40, a session token hundreds.
const minRun = 24

// byte classes for run membership.
const (
	clsNone   = iota
	clsAlpha  // [A-Za-z0-9/+]
	clsEscape // '%' (URL escape) or '\' (JSON escape): members when they escape '/' or '+'
)

var runClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if awskey.IsSecretChar(byte(c)) {
			t[c] = clsAlpha
		}
	}
	t['%'] = clsEscape
	t['\\'] = clsEscape
	return t
}()

// member reports whether data[i] belongs to a run: a character of the secret
// alphabet, or the start of an escaped '/' or '+' (%2F, %2B, \/). The letter of
// an escape sequence (\n, \t, \r) is not a member, so a value after an escaped
// newline starts a fresh run. It depends on data[i-1..i+2] only.
func member(data []byte, i int) bool {
	c := data[i]
	switch runClass[c] {
	case clsAlpha:
		if (c == 'n' || c == 't' || c == 'r') && i > 0 && data[i-1] == '\\' {
			return false
		}
		return true
	case clsEscape:
		if c == '\\' {
			return i+1 < len(data) && data[i+1] == '/'
		}
		if i+2 >= len(data) || data[i+1] != '2' {
			return false
		}
		e := data[i+2] | 0x20
		return e == 'f' || e == 'b'
	}
	return false
}

// memberFast answers member for most bytes from a table: 0 never a member,
// 1 a member (but see the escape letters in findRuns), 2 ask member: an
// escape start. Common letters stay on the fast path.
var memberFast = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch runClass[c] {
		case clsEscape:
			t[c] = 2
		case clsAlpha:
			t[c] = 1
		}
	}
	return t
}()

// isMember is member with the table's fast path, except for escape letters
// (see findRuns).
func isMember(data []byte, i int) bool {
	f := memberFast[data[i]]
	return f == 1 || f == 2 && member(data, i)
}

// findRuns visits every maximal run of members at least minRun bytes long. It
// probes one byte in minRun: any such run covers a probe, so text without long
// runs costs about one table lookup per minRun bytes plus the words it hits.
func (c *collector) findRuns() {
	data := c.data
	lo := 0 // no run starts before lo
	for p := minRun - 1; p < len(data); {
		if f := memberFast[data[p]]; f == 0 || f == 2 && !member(data, p) {
			p += minRun
			continue
		}
		if p > 0 && data[p-1] == '\\' && !member(data, p) { // an escape letter
			p += minRun
			continue
		}
		i, j := p, p+1
		for i > lo {
			f := memberFast[data[i-1]]
			if f == 0 || f == 2 && !member(data, i-1) {
				break
			}
			i--
		}
		// The table takes n, t, r for members; the letter of an escape (\n)
		// is not. Inside a run it cannot be (a member '\' escapes '/'), so
		// only the run's first byte needs the check.
		if i < j && i > 0 && !member(data, i) {
			i++
		}
		// A run long enough must reach i+minRun-1: when that byte is not a
		// member, skip past it without walking the rest of this word.
		if q := i + minRun - 1; q > p && q < len(data) && !isMember(data, q) {
			lo = q + 1
			p = q + minRun
			continue
		}
		for j < len(data) {
			f := memberFast[data[j]]
			if f == 0 || f == 2 && !member(data, j) {
				break
			}
			j++
		}
		if j-i >= minRun {
			if end, ok := c.chain(i, j); ok {
				j = end
			} else {
				c.addRun(i, j)
			}
		}
		lo = j
		p = j + minRun
	}
}

// runValue returns the value a run spells, with its escapes decoded, and the
// escaping it used ("" when none).
func runValue(raw []byte) (string, string) {
	esc := false
	for _, b := range raw {
		if b == '%' || b == '\\' {
			esc = true
			break
		}
	}
	if !esc {
		return string(raw), ""
	}
	out := make([]byte, 0, len(raw))
	enc := ""
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			out = append(out, '/')
			i++
			if enc == "" {
				enc = EncJSONEscaped
			}
		case '%':
			if i+2 >= len(raw) {
				return "", "" // cannot happen for a maximal run; refuse rather than guess
			}
			if raw[i+2]|0x20 == 'f' {
				out = append(out, '/')
			} else {
				out = append(out, '+')
			}
			i += 2
			if enc == "" {
				enc = EncURL
			}
		default:
			out = append(out, raw[i])
		}
	}
	return string(out), enc
}
