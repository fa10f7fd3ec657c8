package git

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/flate"
)

// Bounds on what one worker holds in memory; delta trees beyond them are read
// by cat-file instead, which streams.
const (
	keepBuf  = 1 << 20 // buffers up to this size are kept for the next object
	maxDepth = 10000   // git itself refuses chains deeper than 4095
)

// maxHeld bounds the object content held along one delta chain (a variable
// so that tests can reach the cat-file fallback with small objects).
var maxHeld uint64 = 96 << 20

var errDamaged = errors.New("damaged object")

// resolver inflates delta trees the way `git index-pack` does: each root
// once, then each delta applied to its parent's content, depth first, so
// every object is inflated exactly once and no cache is needed.
type resolver struct {
	ps    *packScan
	zr    io.ReadCloser
	br    bytes.Reader
	comp  []byte
	delta []byte
	bufs  [][]byte // content at each depth of the current chain
}

func newResolver(ps *packScan) *resolver {
	return &resolver{ps: ps, zr: flate.NewReader(bytes.NewReader(nil))}
}

// inflate reads object i's compressed data into dst, which must be exactly
// the declared size.
func (r *resolver) inflate(p *packFile, i int32, dst []byte) error {
	o := &p.objs[i]
	start := o.off + uint64(o.hdr)
	n := o.end - start
	if o.end < start || n > uint64(len(dst))*2+1<<16 { // zlib never grows data this much
		return errDamaged
	}
	if uint64(cap(r.comp)) < n {
		r.comp = make([]byte, n)
	}
	comp := r.comp[:n]
	if m, err := p.f.ReadAt(comp, int64(start)); m != len(comp) {
		return fmt.Errorf("read %s at %d: %w", p.name, start, err)
	}
	err := r.unzip(comp, dst)
	if cap(r.comp) > keepBuf {
		r.comp = nil
	}
	return err
}

// unzip inflates a zlib stream into exactly dst, which it must fill and
// end at. The checksum is not checked: as git does when reading, the pack
// is trusted that far.
func (r *resolver) unzip(comp, dst []byte) error {
	if len(comp) < 2 || comp[0]&0x0f != 8 || binary.BigEndian.Uint16(comp)%31 != 0 || comp[1]&0x20 != 0 {
		return errDamaged
	}
	r.br.Reset(comp[2:])
	if err := r.zr.(flate.Resetter).Reset(&r.br, nil); err != nil {
		return err
	}
	if _, err := io.ReadFull(r.zr, dst); err != nil || !r.ended() {
		return errDamaged
	}
	return nil
}

// ended reports whether the stream being inflated holds nothing more: an
// object that holds more than its header declares is damaged (or lies), and
// reading only the declared part would hide the rest in silence.
func (r *resolver) ended() bool {
	var one [1]byte
	n, err := r.zr.Read(one[:])
	return n == 0 && err == io.EOF
}

// buf returns a buffer of n bytes for depth d.
func (r *resolver) buf(d int, n uint64) []byte {
	for len(r.bufs) <= d {
		r.bufs = append(r.bufs, nil)
	}
	if uint64(cap(r.bufs[d])) < n {
		r.bufs[d] = make([]byte, n)
	}
	return r.bufs[d][:n]
}

// release drops a large buffer once its chain is done, so one huge object
// does not stay resident for the rest of the scan.
func (r *resolver) release(d int) {
	if d < len(r.bufs) && cap(r.bufs[d]) > keepBuf {
		r.bufs[d] = nil
	}
}

// resolveRoot reads one full object and everything deltified from it.
func (r *resolver) resolveRoot(p *packFile, rt root) {
	o := &p.objs[rt.i]
	if o.size > maxHeld {
		r.ps.fallbackTree(p, rt.i)
		return
	}
	data := r.buf(0, o.size)
	if err := r.inflate(p, rt.i, data); err != nil {
		r.ps.damagedTree(p, rt.i, err)
		return
	}
	r.walk(p, rt.i, rt.typ, data, 0, o.size)
	r.release(0)
}

// walk handles object i, whose content is data, then its deltas.
func (r *resolver) walk(p *packFile, i int32, typ uint8, data []byte, depth int, held uint64) {
	r.ps.visit(p, i, typ, data)
	for _, c := range p.children(i) {
		co := &p.objs[c]
		if co.size > maxHeld || depth+1 >= maxDepth {
			r.ps.fallbackTree(p, c)
			continue
		}
		if uint64(cap(r.delta)) < co.size {
			r.delta = make([]byte, co.size)
		}
		delta := r.delta[:co.size]
		if err := r.inflate(p, c, delta); err != nil {
			r.ps.damagedTree(p, c, err)
			continue
		}
		_, size, _, err := deltaSizes(delta)
		if err != nil {
			r.ps.damagedTree(p, c, err)
			continue
		}
		if held+size > maxHeld {
			r.ps.fallbackTree(p, c)
			continue
		}
		out, err := applyDelta(data, delta, r.buf(depth+1, size), size)
		if cap(r.delta) > keepBuf {
			r.delta = nil
		}
		if err != nil {
			r.ps.damagedTree(p, c, err)
			continue
		}
		r.walk(p, c, typ, out, depth+1, held+size)
		r.release(depth + 1)
	}
}

// looseObject inflates a loose object file: "type size\0" then the content.
func (r *resolver) looseObject(comp []byte) (typ string, data []byte, err error) {
	if len(comp) < 2 || comp[0]&0x0f != 8 || binary.BigEndian.Uint16(comp)%31 != 0 || comp[1]&0x20 != 0 {
		return "", nil, errDamaged
	}
	r.br.Reset(comp[2:])
	if err := r.zr.(flate.Resetter).Reset(&r.br, nil); err != nil {
		return "", nil, err
	}
	var head [32]byte
	n := 0
	for ; n < len(head); n++ {
		if _, err := io.ReadFull(r.zr, head[n:n+1]); err != nil {
			return "", nil, errDamaged
		}
		if head[n] == 0 {
			break
		}
	}
	t, sz, ok := bytes.Cut(head[:min(n, len(head))], []byte{' '})
	size, perr := parseSize(sz)
	if !ok || n == len(head) || perr != nil {
		return "", nil, errDamaged
	}
	if size > maxHeld {
		return string(t), nil, errTooLarge
	}
	data = r.buf(0, size)
	if _, err := io.ReadFull(r.zr, data); err != nil || !r.ended() {
		return "", nil, errDamaged
	}
	return string(t), data, nil
}

var errTooLarge = errors.New("object too large to hold")

func parseSize(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 19 {
		return 0, errDamaged
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errDamaged
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}

func hexID(id []byte) string { return hex.EncodeToString(id) }
