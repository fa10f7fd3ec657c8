package git

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
)

// Special parents in the delta forest.
const (
	noParent = -1 // a full object
	external = -2 // a REF_DELTA whose base is not in this pack
)

// packObj is one object of a pack, as its header describes it.
type packObj struct {
	off    uint64
	end    uint64 // end of the compressed data: the next object or the trailer
	size   uint64 // inflated size of the object, or of a delta's instructions
	pos    uint32 // position in the index, which holds the id
	parent int32  // index of the delta base in objs, or noParent / external
	hdr    uint8  // header length
	typ    uint8  // header type; 0 when the header could not be read
}

// packFile is one pack, read with pread (not mapped: the mapping would
// count towards the process's resident memory), and its delta forest.
type packFile struct {
	name     string
	f        *os.File
	idx      *packIndex
	objs     []packObj // in pack order
	kidStart []int32   // objs[i]'s deltas are kids[kidStart[i]:kidStart[i+1]]
	kids     []int32
	kind     []uint8 // each object's real type, from the root of its delta tree
	earlier  []*packIndex
}

// openPack reads a pack's index and object headers and builds its delta forest.
func openPack(idxPath string) (*packFile, error) {
	data, err := os.ReadFile(idxPath)
	if err != nil {
		return nil, err
	}
	idx, err := parseIdx(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", idxPath, err)
	}
	packPath := strings.TrimSuffix(idxPath, ".idx") + ".pack"
	f, err := os.Open(packPath)
	if err != nil {
		return nil, err
	}
	p := &packFile{name: packPath, f: f, idx: idx}
	if err := p.load(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", packPath, err)
	}
	return p, nil
}

func (p *packFile) close() { p.f.Close() }

// load checks the pack header against the index and reads every object header.
func (p *packFile) load() error {
	st, err := p.f.Stat()
	if err != nil {
		return err
	}
	var head [12]byte
	if _, err := p.f.ReadAt(head[:], 0); err != nil {
		return fmt.Errorf("pack header: %w", err)
	}
	if string(head[:4]) != "PACK" || binary.BigEndian.Uint32(head[8:]) != uint32(p.idx.n) {
		return fmt.Errorf("pack header does not match its index")
	}
	if v := binary.BigEndian.Uint32(head[4:8]); v != 2 && v != 3 {
		return fmt.Errorf("pack version %d", v)
	}
	trailer := uint64(st.Size()) - oidLen
	objs := make([]packObj, p.idx.n)
	for i := range objs {
		off, err := p.idx.offset(i)
		if err != nil {
			return err
		}
		if off < 12 || off >= trailer {
			return fmt.Errorf("object offset %d outside the pack", off)
		}
		objs[i] = packObj{off: off, pos: uint32(i), parent: noParent}
	}
	slices.SortFunc(objs, func(a, b packObj) int { return cmpU64(a.off, b.off) })
	for i := range objs {
		objs[i].end = trailer
		if i+1 < len(objs) {
			if objs[i+1].off == objs[i].off {
				return fmt.Errorf("two objects at offset %d", objs[i].off)
			}
			objs[i].end = objs[i+1].off
		}
	}
	p.objs = objs
	if err := p.readHeaders(); err != nil {
		return err
	}
	p.link()
	return nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readHeaders parses each object's header through a sliding window over the
// pack, and points each delta at its base.
func (p *packFile) readHeaders() error {
	byPos := make([]int32, len(p.objs))
	for i, o := range p.objs {
		byPos[o.pos] = int32(i)
	}
	buf := make([]byte, 1<<20)
	var wStart, wEnd uint64
	for i := range p.objs {
		o := &p.objs[i]
		if o.off < wStart || o.off+maxObjHeader > wEnd {
			n, err := p.f.ReadAt(buf, int64(o.off))
			if n == 0 && err != nil {
				return fmt.Errorf("read object header: %w", err)
			}
			wStart, wEnd = o.off, o.off+uint64(n)
		}
		h, err := parseObjHeader(buf[o.off-wStart : min(wEnd, o.end)-wStart])
		if err != nil {
			continue // typ stays 0: the object and its deltas are reported damaged
		}
		o.typ, o.size, o.hdr = h.typ, h.size, uint8(h.n)
		switch h.typ {
		case objOfsDelta:
			o.parent = p.at(o.off - h.baseOfs)
			if h.baseOfs == 0 || h.baseOfs > o.off || o.parent < 0 {
				o.typ = 0
			}
		case objRefDelta:
			o.parent = external
			if pos, ok := p.idx.find(h.baseID); ok {
				o.parent = byPos[pos]
			}
		}
	}
	return nil
}

// at returns the index of the object at offset off, or noParent.
func (p *packFile) at(off uint64) int32 {
	i := sort.Search(len(p.objs), func(i int) bool { return p.objs[i].off >= off })
	if i < len(p.objs) && p.objs[i].off == off {
		return int32(i)
	}
	return noParent
}

// link builds the children lists of the delta forest.
func (p *packFile) link() {
	start := make([]int32, len(p.objs)+1)
	for _, o := range p.objs {
		if o.parent >= 0 && o.typ != 0 {
			start[o.parent+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	kids := make([]int32, start[len(p.objs)])
	fill := slices.Clone(start[:len(p.objs)])
	for i, o := range p.objs {
		if o.parent >= 0 && o.typ != 0 {
			kids[fill[o.parent]] = int32(i)
			fill[o.parent]++
		}
	}
	p.kidStart, p.kids = start, kids
}

func (p *packFile) children(i int32) []int32 { return p.kids[p.kidStart[i]:p.kidStart[i+1]] }

func (p *packFile) oid(i int32) []byte { return p.idx.oid(int(p.objs[i].pos)) }

// owned reports whether this pack is the one to scan object i: no pack
// read before it holds the same id.
func (p *packFile) owned(i int32) bool {
	for _, e := range p.earlier {
		if _, ok := e.find(p.oid(i)); ok {
			return false
		}
	}
	return true
}

// isRoot reports whether object i starts a delta tree: a full object, a
// delta on a base outside the pack, or an unreadable header.
func (p *packFile) isRoot(i int32) bool {
	o := p.objs[i]
	return o.typ == 0 || o.parent < 0
}

// subtree calls fn for object i and every delta below it, depth first.
func (p *packFile) subtree(i int32, fn func(int32)) {
	stack := []int32{i}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(j)
		stack = append(stack, p.children(j)...)
	}
}

// root describes one delta tree to resolve.
type root struct {
	i      int32
	typ    uint8  // the tree's object type; 0 when unknown (external base, damaged)
	weight uint64 // bytes below it, to hand out the biggest trees first
}

// plan types every object from its tree's root and returns the roots.
// Objects no root reaches (delta cycles) are returned as unreachable.
func (p *packFile) plan() (roots []root, unreachable []int32) {
	p.kind = make([]uint8, len(p.objs))
	seen := make([]bool, len(p.objs))
	for i := range p.objs {
		if !p.isRoot(int32(i)) {
			continue
		}
		r := root{i: int32(i)}
		if o := p.objs[i]; o.parent == noParent && o.typ >= objCommit && o.typ <= objTag {
			r.typ = o.typ
		}
		p.subtree(r.i, func(j int32) {
			seen[j] = true
			p.kind[j] = r.typ
			r.weight += p.objs[j].size
		})
		roots = append(roots, r)
	}
	for i, s := range seen {
		if !s {
			unreachable = append(unreachable, int32(i))
		}
	}
	return roots, unreachable
}

// has reports whether the pack holds the object id.
func (p *packFile) has(id []byte) bool {
	_, ok := p.idx.find(id)
	return ok
}
