// Package netranges says whose published network an address is in: AWS's
// (ip-ranges.json, with the service and region of each prefix), GitHub
// Actions' hosted runners (api.github.com/meta) and Google Cloud's
// (cloud.json: where GitLab.com's hosted runners run). The ranges are
// embedded (ranges.tsv.gz, rewritten by ./gen from the official URLs) with
// the date each provider published them; a lookup is a binary search per
// prefix length, the most specific prefix winning.
package netranges

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// The sets of ranges.
const (
	AWS    = "aws"    // AWS: ip-ranges.json
	GitHub = "github" // GitHub Actions' hosted runners: api.github.com/meta
	GCP    = "gcp"    // Google Cloud: cloud.json
)

// Range is one published prefix.
type Range struct {
	Prefix  netip.Prefix
	Set     string // AWS, GitHub or GCP
	Service string // AWS's service (EC2, CODEBUILD, AMAZON, ...), GitHub's category; empty for GCP
	Region  string // AWS's region, GCP's scope; empty when the provider says none
}

// Source is where one set came from and when its provider published it.
type Source struct {
	Set       string `json:"set"`
	URL       string `json:"url"`
	Published string `json:"published"` // the provider's own date or sync token
	Note      string `json:"note,omitempty"`
	Prefixes  int    `json:"prefixes"`
}

// Table answers which published range holds an address.
type Table struct {
	ranges  []Range
	sources []Source
	v4      []level // by prefix length, longest first
	v6      []level
}

// level is every prefix of one length, sorted by its network address.
type level struct {
	bits int
	keys []u128
	idx  []int32 // into Table.ranges
}

type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// key is a's 128-bit form (an IPv4 address mapped into IPv6).
func key(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// mask keeps the first bits of k (bits counted on the 128-bit form).
func (k u128) mask(bits int) u128 {
	switch {
	case bits <= 0:
		return u128{}
	case bits < 64:
		return u128{k.hi &^ (^uint64(0) >> bits), 0}
	case bits < 128:
		return u128{k.hi, k.lo &^ (^uint64(0) >> (bits - 64))}
	}
	return k
}

// New indexes ranges.
func New(ranges []Range, sources []Source) *Table {
	t := &Table{ranges: ranges, sources: sources}
	by4, by6 := map[int][]int32{}, map[int][]int32{}
	for i, r := range ranges {
		if r.Prefix.Addr().Is4() {
			by4[r.Prefix.Bits()+96] = append(by4[r.Prefix.Bits()+96], int32(i))
		} else {
			by6[r.Prefix.Bits()] = append(by6[r.Prefix.Bits()], int32(i))
		}
	}
	t.v4, t.v6 = t.levels(by4), t.levels(by6)
	return t
}

func (t *Table) levels(by map[int][]int32) []level {
	var ls []level
	for bits, idx := range by {
		l := level{bits: bits, idx: idx}
		slices.SortStableFunc(l.idx, func(a, b int32) int {
			ka, kb := key(t.ranges[a].Prefix.Masked().Addr()), key(t.ranges[b].Prefix.Masked().Addr())
			switch {
			case ka.less(kb):
				return -1
			case kb.less(ka):
				return 1
			}
			return 0
		})
		l.keys = make([]u128, len(l.idx))
		for i, j := range l.idx {
			l.keys[i] = key(t.ranges[j].Prefix.Masked().Addr())
		}
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(a, b level) int { return b.bits - a.bits })
	return ls
}

// Lookup is the most specific range holding addr (an IPv4 address mapped
// into IPv6 is looked up as IPv4), and false when no set holds it.
func (t *Table) Lookup(addr netip.Addr) (Range, bool) {
	addr = addr.Unmap()
	levels := t.v6
	if addr.Is4() {
		levels = t.v4
	}
	k := key(addr)
	for _, l := range levels {
		m := k.mask(l.bits)
		i, found := slices.BinarySearchFunc(l.keys, m, func(a, b u128) int {
			switch {
			case a.less(b):
				return -1
			case b.less(a):
				return 1
			}
			return 0
		})
		if found {
			return t.ranges[l.idx[i]], true
		}
	}
	return Range{}, false
}

// Sources says where each set came from.
func (t *Table) Sources() []Source { return t.sources }

//go:embed ranges.tsv.gz
var embedded []byte

var (
	once   sync.Once
	def    *Table
	defErr error
)

// Default is the embedded table, read once.
func Default() (*Table, error) {
	once.Do(func() {
		zr, err := gzipReader()
		if err != nil {
			defErr = fmt.Errorf("read the embedded network ranges: %w", err)
			return
		}
		def, defErr = Read(zr)
	})
	return def, defErr
}

func gzipReader() (io.Reader, error) { return gzip.NewReader(bytes.NewReader(embedded)) }

// Read parses the data format Write writes: "#source" lines (set, URL,
// published, note), then one "prefix set service region" line per range,
// tab-separated.
func Read(r io.Reader) (*Table, error) {
	var ranges []Range
	var sources []Source
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		f := strings.Split(sc.Text(), "\t")
		if f[0] == "#source" {
			if len(f) != 5 {
				return nil, fmt.Errorf("network ranges line %d: want 5 fields", n)
			}
			sources = append(sources, Source{Set: f[1], URL: f[2], Published: f[3], Note: f[4]})
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("network ranges line %d: want 4 fields", n)
		}
		p, err := netip.ParsePrefix(f[0])
		if err != nil {
			return nil, fmt.Errorf("network ranges line %d: %w", n, err)
		}
		ranges = append(ranges, Range{Prefix: p.Masked(), Set: f[1], Service: f[2], Region: f[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read network ranges: %w", err)
	}
	for i := range sources {
		for _, r := range ranges {
			if r.Set == sources[i].Set {
				sources[i].Prefixes++
			}
		}
	}
	return New(ranges, sources), nil
}

// Write writes sources and ranges in the format Read reads, ranges sorted
// so the same data gives the same bytes.
func Write(w io.Writer, sources []Source, ranges []Range) error {
	ranges = slices.Clone(ranges)
	slices.SortFunc(ranges, func(a, b Range) int {
		if c := strings.Compare(a.Set, b.Set); c != 0 {
			return c
		}
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return a.Prefix.Bits() - b.Prefix.Bits()
	})
	bw := bufio.NewWriter(w)
	for _, s := range sources {
		fmt.Fprintf(bw, "#source\t%s\t%s\t%s\t%s\n", s.Set, s.URL, s.Published, s.Note)
	}
	for _, r := range ranges {
		fmt.Fprintf(bw, "%s\t%s\t%s\t%s\n", r.Prefix, r.Set, r.Service, r.Region)
	}
	return bw.Flush()
}
