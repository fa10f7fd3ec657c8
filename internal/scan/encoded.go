package scan

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"

	"github.com/keywarden/keywarden/internal/scan/awskey"
)

// needle is the part of base64 text that a key id prefix fixes whatever the
// bytes around it: the prefix may sit at any of the 3 byte positions of a
// base64 group, so each prefix has 3 needles, each at a fixed position modulo 4
// when the encoded text starts the run.
type needle struct {
	head uint32 // first 4 characters, little-endian
	mod  int    // position of the needle modulo 4
}

var idNeedles = buildNeedles()

// buildNeedles encodes every prefix at each alignment with extreme filler bytes
// around it and keeps the characters that do not change.
func buildNeedles() []needle {
	var out []needle
	for _, pfx := range awskey.Prefixes {
		for align := 0; align < 3; align++ {
			var encs []string
			for _, before := range []byte{0x00, 0xff} {
				for _, after := range []byte{'0', 'Z'} { // the id characters after the prefix span 0x30..0x5a
					b := bytes.Repeat([]byte{before}, align)
					b = append(b, pfx...)
					b = append(b, bytes.Repeat([]byte{after}, 6)...)
					encs = append(encs, base64.StdEncoding.EncodeToString(b))
				}
			}
			start, n := stableSpan(encs)
			if n >= 4 {
				out = append(out, needle{head: binary.LittleEndian.Uint32([]byte(encs[0][start : start+4])), mod: start % 4})
			}
		}
	}
	return out
}

// stableSpan returns the longest stretch of characters equal in all encs.
func stableSpan(encs []string) (start, n int) {
	cur := 0
	for i := 0; i < len(encs[0])-4; i++ { // the tail holds padding; ignore it
		same := true
		for _, e := range encs[1:] {
			if e[i] != encs[0][i] {
				same = false
			}
		}
		if same {
			cur++
			if cur > n {
				start, n = i-cur+1, cur
			}
		} else {
			cur = 0
		}
	}
	return start, n
}

// needleGroup holds the needles that share a first character and position:
// every prefix's needles start with one of three characters (Q, F, B), so a
// SIMD IndexByte for that character finds the few places worth comparing.
type needleGroup struct {
	first byte
	mod   int
	heads []uint32
}

var needleGroups = groupNeedles(idNeedles)

func groupNeedles(ns []needle) []needleGroup {
	var gs []needleGroup
	for _, n := range ns {
		first, i := byte(n.head), 0
		for i < len(gs) && (gs[i].first != first || gs[i].mod != n.mod) {
			i++
		}
		if i == len(gs) {
			gs = append(gs, needleGroup{first: first, mod: n.mod})
		}
		gs[i].heads = append(gs[i].heads, n.head)
	}
	return gs
}

// hasIDNeedle reports whether run, read as base64 from its first byte, may
// encode a key id prefix.
func hasIDNeedle(run []byte) bool {
	for _, g := range needleGroups {
		for i := 0; i+4 <= len(run); {
			j := bytes.IndexByte(run[i:len(run)-3], g.first)
			if j < 0 {
				break
			}
			p := i + j
			if p%4 == g.mod {
				v := binary.LittleEndian.Uint32(run[p:])
				for _, h := range g.heads {
					if v == h {
						return true
					}
				}
			}
			i = p + 1
		}
	}
	return false
}

// hasNeedleAnywhere reports whether data holds a needle at any position,
// allowing one line break inside it (base64 wrapped over lines, see chain).
// It is the cheap test that lets the detector skip its run pass: no run, nor
// chain of runs, can hold a needle that this misses.
func hasNeedleAnywhere(data []byte) bool {
	for _, g := range needleGroups {
		for i := 0; i < len(data); {
			j := bytes.IndexByte(data[i:], g.first)
			if j < 0 {
				break
			}
			p := i + j
			if v, ok := next4(data, p); ok {
				for _, h := range g.heads {
					if v == h {
						return true
					}
				}
			}
			i = p + 1
		}
	}
	return false
}

// next4 reads the 4 characters at p as little-endian, skipping one "\n" or
// "\r\n" after the first, second or third of them.
func next4(data []byte, p int) (uint32, bool) {
	var b [4]byte
	b[0] = data[p]
	n, skipped := 1, false
	for q := p + 1; n < 4 && q < len(data); {
		if !skipped {
			if e := afterNewline(data, q); e > 0 {
				q, skipped = e, true
				continue
			}
		}
		b[n] = data[q]
		n++
		q++
	}
	return binary.LittleEndian.Uint32(b[:]), n == 4
}

// decodeRun decodes a plain base64 run when it can hold a key: it carries an
// encoded prefix, or it is the size of an encoded secret under an AWS secret
// name. A decoded lone id or secret joins the candidates (so it pairs with
// its other half, encoded or not); anything larger is scanned as content.
func (c *collector) decodeRun(start, end int) {
	raw := c.data[start:end]
	n := len(raw)
	needleHit := n >= 27 && hasIDNeedle(raw)
	secretSized := n >= 52 && n <= 56 && secretNamed(c.data, start, c.d.lim.lineCap)
	if !needleHit && !secretSized {
		return
	}
	dec := decodeBase64(raw)
	if dec == nil {
		return
	}
	v := bytes.TrimSpace(dec)
	if len(v) == awskey.KeyIDLen {
		if kind := awskey.ParseKeyID(v); kind != awskey.KindNone && !awskey.IsPlaceholderID(string(v)) {
			c.ids = append(c.ids, part{off: start, end: end, val: string(v), enc: EncBase64, kind: kind})
			return
		}
	}
	if len(v) == awskey.SecretLen && awskey.LooksLikeSecret(string(v)) {
		c.secrets = append(c.secrets, part{off: start, end: end, val: string(v), enc: EncBase64})
		return
	}
	if needleHit {
		c.scanDecoded(dec, start)
	}
}

// decodeBase64 decodes standard base64 with or without padding (the run holds
// no '='), or returns nil when raw is not base64 of anything.
func decodeBase64(raw []byte) []byte {
	if len(raw)%4 == 1 {
		raw = raw[:len(raw)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(raw)))
	n, err := base64.RawStdEncoding.Decode(out, raw)
	if err != nil {
		return nil
	}
	return out[:n]
}

// scanDecoded runs the detector over decoded content and keeps its matches,
// anchored at the encoded block's start.
func (c *collector) scanDecoded(dec []byte, start int) {
	if c.depth >= maxDepth {
		return
	}
	for _, m := range c.d.analyze(dec, c.depth+1) {
		m.Offset = int64(start)
		m.Encoding = EncBase64
		c.inner = append(c.inner, m)
	}
}

// chain handles base64 wrapped over several lines (base64(1) wraps at 76
// columns): a run of a length divisible by 4, followed line after line by runs
// of the same length and a last shorter one. Blocks that may hold a key are
// decoded whole. It returns the end of the block and whether it took the run;
// a block longer than maxRun is left to the runs one by one.
func (c *collector) chain(start, end int) (int, bool) {
	width := end - start
	if width%4 != 0 || width < 40 || width > c.d.lim.maxRun || !c.chainStart(start, width) {
		return 0, false
	}
	data := c.data
	var joined []byte
	last := end
	for {
		q := afterNewline(data, last)
		if q < 0 || q >= len(data) || !member(data, q) {
			break
		}
		e := q
		for e < len(data) && member(data, e) {
			e++
		}
		if e-start > c.d.lim.maxRun {
			return 0, false
		}
		if joined == nil {
			joined = append(joined, data[start:end]...)
		}
		joined = append(joined, data[q:e]...)
		last = e
		if e-q != width {
			break
		}
	}
	// Only a block that may hold a key is taken; otherwise its lines are
	// looked at one by one like any other run.
	if joined == nil || !hasIDNeedle(joined) {
		return 0, false
	}
	if dec := decodeBase64(joined); dec != nil {
		c.scanDecoded(dec, start)
	}
	return last, true
}

// chainStart reports whether the run at start is not itself a line inside a
// wrapped block: the line before it is not a run of exactly the same width.
func (c *collector) chainStart(start, width int) bool {
	data := c.data
	p := start - 1
	if p < 0 || data[p] != '\n' {
		return true
	}
	p--
	if p >= 0 && data[p] == '\r' {
		p--
	}
	n := 0
	for p >= 0 && n <= width && member(data, p) {
		n++
		p--
	}
	return n != width
}

// afterNewline returns the offset after the line break at data[i] (\n or
// \r\n), or -1 when there is none.
func afterNewline(data []byte, i int) int {
	if i < len(data) && data[i] == '\n' {
		return i + 1
	}
	if i+1 < len(data) && data[i] == '\r' && data[i+1] == '\n' {
		return i + 2
	}
	return -1
}
