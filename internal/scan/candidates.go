package scan

import (
	"bytes"

	"github.com/keywarden/keywarden/internal/scan/awskey"
)

// part is one piece of a credential found in the content: a key id, a secret
// or a session token. For a piece found inside an encoded run, off..end is the
// run and val the decoded value.
type part struct {
	off, end int
	val      string
	enc      string
	kind     int // key ids: awskey.Kind*
}

// collector gathers the candidate parts of one piece of content.
type collector struct {
	d       *Detector
	data    []byte
	depth   int
	ids     []part
	secrets []part
	tokens  []part
	inner   []Match // matches found inside decoded blocks, anchored at the block
}

// findIDs finds every bounded key id with a credential prefix. Each prefix is
// searched with bytes.Index, which runs vectorised over text without keys.
func (c *collector) findIDs() {
	data := c.data
	sorted := true
	for _, pfx := range awskey.Prefixes {
		needle := []byte(pfx)
		for i := 0; ; {
			j := bytes.Index(data[i:], needle)
			if j < 0 {
				break
			}
			pos := i + j
			i = pos + 1
			if !idBounded(data, pos) {
				continue
			}
			kind := awskey.ParseKeyID(data[pos:])
			if kind == awskey.KindNone {
				continue
			}
			id := string(data[pos : pos+awskey.KeyIDLen])
			if awskey.IsPlaceholderID(id) {
				continue // documentation or placeholder; see nearFake
			}
			if n := len(c.ids); n > 0 && c.ids[n-1].off > pos {
				sorted = false
			}
			c.ids = append(c.ids, part{off: pos, end: pos + awskey.KeyIDLen, val: id, kind: kind})
		}
	}
	if !sorted {
		sortParts(c.ids)
	}
}

// idBounded reports whether the 20 bytes at pos touch no letter or digit on
// either side. A JSON/shell escape (\n, \t, \r) right before counts as a
// boundary: the id starts a line inside an escaped string.
func idBounded(data []byte, pos int) bool {
	end := pos + awskey.KeyIDLen
	if end > len(data) {
		return false
	}
	if end < len(data) && awskey.IsAlnum(data[end]) {
		return false
	}
	return pos == 0 || !awskey.IsAlnum(data[pos-1]) || escapeBefore(data, pos)
}

// escapeBefore reports whether data[pos-2:pos] is an escape sequence \n, \t or \r.
func escapeBefore(data []byte, pos int) bool {
	if pos < 2 || data[pos-2] != '\\' {
		return false
	}
	switch data[pos-1] {
	case 'n', 't', 'r':
		return true
	}
	return false
}

// addRun classifies one maximal run of the secret alphabet (escapes included):
// a secret, a session token, or base64 that may hold a key.
func (c *collector) addRun(start, end int) {
	if end-start > c.d.lim.maxRun {
		return
	}
	raw := c.data[start:end]
	if bytes.IndexByte(raw, '%') >= 0 || bytes.IndexByte(raw, '\\') >= 0 {
		// Escapes only ever matter for a secret: ids have no '/' or '+', and
		// tokens and base64 are taken as they are written.
		if val, enc := runValue(raw); len(val) == awskey.SecretLen && awskey.LooksLikeSecret(val) {
			c.secrets = append(c.secrets, part{off: start, end: end, val: val, enc: enc})
		}
		return
	}
	if len(raw) == awskey.SecretLen && !(end < len(c.data) && c.data[end] == '=') {
		if val := string(raw); awskey.LooksLikeSecret(val) {
			c.secrets = append(c.secrets, part{off: start, end: end, val: val})
			return
		}
	}
	padEnd := end
	for padEnd < len(c.data) && padEnd-end < 2 && c.data[padEnd] == '=' {
		padEnd++
	}
	if padEnd-start >= awskey.MinTokenLen {
		if tok := string(c.data[start:padEnd]); awskey.LooksLikeToken(tok) {
			c.tokens = append(c.tokens, part{off: start, end: padEnd, val: tok})
		}
	}
	c.decodeRun(start, end)
}

// sortParts orders parts by offset (insertion sort: the lists are short and
// almost sorted).
func sortParts(ps []part) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].off < ps[j-1].off; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}
