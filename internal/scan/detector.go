// Package scan is the detection engine: it finds AWS credentials in bytes and
// turns them into findings. It does no I/O of its own.
package scan

import (
	"bytes"
	"io"
	"sort"

	"github.com/keywarden/keywarden/internal/secret"
)

// Match is one credential the detector found in a piece of content.
type Match struct {
	Rule         Rule
	KeyID        string        // AKIA…/ASIA…; empty for a lone secret
	Secret       secret.Secret // empty for a lone key id
	SessionToken secret.Secret // for session credentials, when found
	Line, Column int           // 1-based position of the first part of the credential (column in bytes)
	Offset       int64         // byte offset of that position in the content
	Encoding     string        // "" | base64 | url | json-escaped
}

// Encodings a match can carry.
const (
	EncBase64      = "base64"
	EncURL         = "url"
	EncJSONEscaped = "json-escaped"
)

// allowMarker on a line keeps every credential on that line out of the results.
var allowMarker = []byte("keywarden:allow")

// limits bound how far any decision looks, so that a streamed scan whose
// windows overlap by more than radius() reports exactly what Find reports.
type limits struct {
	window     int // largest gap between an id and its secret (or token)
	maxRun     int // longest base64 run (or multi-line block) decoded or taken as a token
	lineCap    int // how far along a line to look for names and the allow marker
	fakeRadius int // how far from a secret to look for a made-up key id
}

var defaultLimits = limits{window: 4096, maxRun: 16384, lineCap: 1024, fakeRadius: 512}

// radius is how far, at most, a match decision depends on bytes before or
// after the match's position: two pairing rounds, a decoded run, a line.
func (l limits) radius() int {
	return 3*l.window + l.maxRun + 2*l.lineCap + l.fakeRadius + 64
}

// maxDepth bounds how many times base64 inside base64 is decoded.
const maxDepth = 2

// Detector finds AWS credentials. It is safe for concurrent use.
type Detector struct {
	lim limits
}

// NewDetector returns a detector with the built-in rules.
func NewDetector() *Detector { return &Detector{lim: defaultLimits} }

// Find returns the credentials in data, in order of offset. Lines holding
// "keywarden:allow" are never reported.
func (d *Detector) Find(data []byte) []Match {
	ms := d.analyze(data, 0)
	p := positioner{data: data, line: 1}
	for i := range ms {
		p.locate(&ms[i])
	}
	return ms
}

// FindReader streams r through the detector in bounded memory and calls fn for
// each match, in order of offset. It reports what Find would report on the
// whole content. It returns the number of bytes read.
func (d *Detector) FindReader(r io.Reader, fn func(Match)) (int64, error) {
	return d.stream(r, fn, defaultChunk, defaultMargin)
}

// analyze finds the matches in data with Offset relative to data and no
// Line/Column yet. depth counts the base64 layers already decoded.
func (d *Detector) analyze(data []byte, depth int) []Match {
	c := collector{d: d, data: data, depth: depth}
	c.findIDs()
	// Runs (secrets, tokens, base64) can only matter beside a key id, under a
	// secret's name, or when base64 may encode a key id: most text has none of
	// these, and the run pass is the detector's most expensive one.
	if len(c.ids) > 0 || mayNameSecret(data) || hasNeedleAnywhere(data) {
		c.findRuns()
	}
	if len(c.ids) == 0 && len(c.secrets) == 0 && len(c.inner) == 0 {
		return nil
	}
	if bytes.Contains(data, allowMarker) {
		c.dropAllowed()
	}
	ms := c.pair()
	ms = append(ms, c.inner...)
	sortMatches(ms)
	return ms
}

// sortMatches orders matches by offset, then by content, so that Find and
// FindReader agree on the order of matches at one offset.
func sortMatches(ms []Match) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.KeyID != b.KeyID {
			return a.KeyID < b.KeyID
		}
		return a.Secret.Reveal() < b.Secret.Reveal()
	})
}

// positioner turns offsets into 1-based line and byte column, counting
// newlines forward from the last position it located.
type positioner struct {
	data      []byte
	line      int // line number at data[at]
	lineStart int // offset of that line's start; negative when it began before data
	at        int
}

// locate sets m.Line and m.Column from m.Offset (relative to p.data), which
// must not decrease from one call to the next.
func (p *positioner) locate(m *Match) {
	off := int(m.Offset)
	if off > len(p.data) {
		off = len(p.data)
	}
	if off > p.at {
		seg := p.data[p.at:off]
		if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
			p.line += n
			p.lineStart = p.at + bytes.LastIndexByte(seg, '\n') + 1
		}
		p.at = off
	}
	m.Line = p.line
	m.Column = off - p.lineStart + 1
}
