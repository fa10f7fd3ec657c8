package scan

import (
	"bytes"

	"github.com/keywarden/keywarden/internal/scan/awskey"
)

// nameWindow is how many bytes before a value are read for its name: enough
// for `"aws_secret_access_key": "` or `System.setProperty("aws.secretKey", "`,
// short enough not to reach the name of the assignment before.
const nameWindow = 64

// secretNames are the names (lower case, letters only) that mark a value as an
// AWS secret access key: aws_secret_access_key, AWS_SECRET_ACCESS_KEY,
// SecretAccessKey, secret_key, secretKey, aws.secret, the console CSV header...
var secretNames = [][]byte{
	[]byte("secretaccesskey"), []byte("secretkey"), []byte("awssecret"), []byte("secretaccess"),
}

// mayNameSecret reports whether b holds the word "secret" written as people
// write it: secret, Secret, SECRET (every name in secretNames has it). A name
// must spell it so; this lets the detector skip its run pass on text without it.
func mayNameSecret(b []byte) bool {
	// Anchored on "cret": 'e' is too common in text for a fast search.
	for _, tail := range [][]byte{[]byte("cret"), []byte("CRET")} {
		upper := tail[0] == 'C'
		for i := 0; ; {
			j := bytes.Index(b[i:], tail)
			if j < 0 {
				break
			}
			p := i + j
			if p > 0 && (b[p-1] == 'e' && !upper || b[p-1] == 'E' && upper) {
				return true
			}
			i = p + 1
		}
	}
	return false
}

// secretNamed reports whether the text before off names an AWS secret: the
// start of its line, or the line before when the value sits alone on its line
// (XML elements, YAML block scalars).
func secretNamed(data []byte, off, lineCap int) bool {
	prefix := lineBefore(data, off, lineCap)
	if !hasLetter(prefix) {
		ls := off - len(prefix)
		if ls > 0 {
			prefix = lineBefore(data, ls-1, lineCap)
		}
	}
	if len(prefix) > nameWindow {
		prefix = prefix[len(prefix)-nameWindow:]
	}
	// A literal \n inside a JSON string (notebooks) ends the logical line.
	if i := bytes.LastIndex(prefix, []byte(`\n`)); i >= 0 {
		prefix = prefix[i+2:]
	}
	if !mayNameSecret(prefix) {
		return false
	}
	var norm [nameWindow]byte
	n := 0
	for _, b := range prefix {
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if b >= 'a' && b <= 'z' {
			norm[n] = b
			n++
		}
	}
	for _, name := range secretNames {
		if bytes.Contains(norm[:n], name) {
			return true
		}
	}
	return false
}

// lineBefore returns the bytes from the start of off's line (at most lineCap
// back) up to off.
func lineBefore(data []byte, off, lineCap int) []byte {
	lo := max(0, off-lineCap)
	if i := bytes.LastIndexByte(data[lo:off], '\n'); i >= 0 {
		lo += i + 1
	}
	return data[lo:off]
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			return true
		}
	}
	return false
}

// allowed reports whether off's line holds the allow marker (looking at most
// lineCap bytes each way).
func allowed(data []byte, off, lineCap int) bool {
	lo := max(0, off-lineCap)
	if i := bytes.LastIndexByte(data[lo:off], '\n'); i >= 0 {
		lo += i + 1
	}
	hi := min(len(data), off+lineCap)
	if i := bytes.IndexByte(data[off:hi], '\n'); i >= 0 {
		hi = off + i
	}
	return bytes.Contains(data[lo:hi], allowMarker)
}

// dropAllowed removes the parts that sit on a line with the allow marker.
func (c *collector) dropAllowed() {
	keep := func(ps []part) []part {
		out := ps[:0]
		for _, p := range ps {
			if !allowed(c.data, p.off, c.d.lim.lineCap) {
				out = append(out, p)
			}
		}
		return out
	}
	c.ids = keep(c.ids)
	c.secrets = keep(c.secrets)
	inner := c.inner[:0]
	for _, m := range c.inner {
		if !allowed(c.data, int(m.Offset), c.d.lim.lineCap) {
			inner = append(inner, m)
		}
	}
	c.inner = inner
}

// nearestFake returns the gap between the secret s and the closest made-up
// key id within radius: AWS's documentation examples and placeholders, and
// look-alikes with an invalid prefix or characters. -1 when there is none. A
// secret beside such an id is part of the same made-up block.
func nearestFake(data []byte, s part, radius int) int {
	return nearestID(data, s, radius, fakeID)
}

// nearestForeign is nearestFake for the access key ids of S3-compatible
// services (MinIO, Wasabi, Ceph...: 20 upper-case letters and digits without
// an AWS prefix). A secret beside one, with no AWS id near, is theirs.
func nearestForeign(data []byte, s part, radius int) int {
	return nearestID(data, s, radius, func(data []byte, pos int) bool {
		return idBounded(data, pos) && awskey.IsForeignKeyID(data[pos:])
	})
}

// nearestID returns the gap between s and the closest id within radius for
// which is(data, pos) holds, or -1.
func nearestID(data []byte, s part, radius int, is func([]byte, int) bool) int {
	lo, hi := max(0, s.off-radius), min(len(data), s.end+radius)
	best := -1
	for pos := lo; pos+awskey.KeyIDLen <= hi; pos++ {
		if !idStart(data, pos) || !is(data, pos) {
			continue
		}
		g := gap(part{off: pos, end: pos + awskey.KeyIDLen}, s)
		if best < 0 || g < best {
			best = g
		}
	}
	return best
}

// idStart reports whether an upper-case letter or digit starting a word is at pos.
func idStart(data []byte, pos int) bool {
	c := data[pos]
	return (c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') && (pos == 0 || !awskey.IsAlnum(data[pos-1]) || escapeBefore(data, pos))
}

// fakeID reports whether a bounded made-up key id starts at pos.
func fakeID(data []byte, pos int) bool {
	if !idBounded(data, pos) {
		return false
	}
	b := data[pos : pos+awskey.KeyIDLen]
	if awskey.IsLookalikeID(b) {
		return true
	}
	return awskey.ParseKeyID(b) != awskey.KindNone && awskey.IsPlaceholderID(string(b))
}
