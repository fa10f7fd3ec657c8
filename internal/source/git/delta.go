package git

import (
	"errors"
	"fmt"
)

// Pack object types, as the 3 type bits of an object header hold them.
const (
	objCommit   = 1
	objTree     = 2
	objBlob     = 3
	objTag      = 4
	objOfsDelta = 6
	objRefDelta = 7
)

// maxObjHeader bounds an object header: type and size (at most 10 bytes for
// a 64-bit size), then an OFS_DELTA offset (10) or a REF_DELTA base id (20).
const maxObjHeader = 10 + oidLen

// objHeader is what precedes an object's compressed data in a pack.
type objHeader struct {
	typ     uint8
	size    uint64 // inflated size: the object's, or a delta's instructions
	baseOfs uint64 // OFS_DELTA: how far back the base starts
	baseID  []byte // REF_DELTA: the base's id (aliases the input)
	n       int    // header length
}

var errBadHeader = errors.New("bad object header")

// parseObjHeader decodes the object header at the start of b.
func parseObjHeader(b []byte) (objHeader, error) {
	var h objHeader
	if len(b) == 0 {
		return h, errBadHeader
	}
	c := b[0]
	h.typ = (c >> 4) & 7
	h.size = uint64(c & 15)
	i, shift := 1, uint(4)
	for c&0x80 != 0 {
		if i >= len(b) || shift > 57 {
			return h, errBadHeader
		}
		c = b[i]
		i++
		h.size |= uint64(c&0x7f) << shift
		shift += 7
	}
	switch h.typ {
	case objCommit, objTree, objBlob, objTag:
	case objOfsDelta:
		if i >= len(b) {
			return h, errBadHeader
		}
		c = b[i]
		i++
		ofs := uint64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(b) || ofs >= 1<<56 {
				return h, errBadHeader
			}
			c = b[i]
			i++
			ofs = (ofs+1)<<7 | uint64(c&0x7f)
		}
		h.baseOfs = ofs
	case objRefDelta:
		if len(b)-i < oidLen {
			return h, errBadHeader
		}
		h.baseID = b[i : i+oidLen]
		i += oidLen
	default:
		return h, fmt.Errorf("object type %d: %w", h.typ, errBadHeader)
	}
	h.n = i
	return h, nil
}

var errBadDelta = errors.New("bad delta")

// deltaVarint reads one of the two sizes that open a delta.
func deltaVarint(d []byte) (uint64, int, error) {
	var v uint64
	for i, shift := 0, uint(0); i < len(d) && shift <= 63; i, shift = i+1, shift+7 {
		v |= uint64(d[i]&0x7f) << shift
		if d[i]&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errBadDelta
}

// deltaSizes returns the base and result sizes a delta declares, and where
// its instructions start.
func deltaSizes(delta []byte) (src, dst uint64, n int, err error) {
	src, a, err := deltaVarint(delta)
	if err != nil {
		return 0, 0, 0, err
	}
	dst, b, err := deltaVarint(delta[a:])
	if err != nil {
		return 0, 0, 0, err
	}
	return src, dst, a + b, nil
}

// applyDelta rebuilds an object from its base and a delta, into dst (reused
// when large enough). Every copy and insert is checked against the sizes the
// delta declares, and the result may not exceed limit, so a hostile delta can
// neither overrun nor allocate without bound.
func applyDelta(base, delta, dst []byte, limit uint64) ([]byte, error) {
	src, size, i, err := deltaSizes(delta)
	if err != nil {
		return dst, err
	}
	if src != uint64(len(base)) {
		return dst, fmt.Errorf("delta base is %d bytes, want %d: %w", len(base), src, errBadDelta)
	}
	if size > limit {
		return dst, fmt.Errorf("delta result of %d bytes exceeds %d: %w", size, limit, errBadDelta)
	}
	if uint64(cap(dst)) < size {
		dst = make([]byte, size)
	}
	out := dst[:size]
	w := 0
	for i < len(delta) {
		c := delta[i]
		i++
		switch {
		case c&0x80 != 0:
			var ofs, n uint64
			for bit := range 7 {
				if c&(1<<bit) == 0 {
					continue
				}
				if i >= len(delta) {
					return dst, errBadDelta
				}
				if bit < 4 {
					ofs |= uint64(delta[i]) << (8 * bit)
				} else {
					n |= uint64(delta[i]) << (8 * (bit - 4))
				}
				i++
			}
			if n == 0 {
				n = 0x10000
			}
			if ofs+n > uint64(len(base)) || n > uint64(len(out)-w) {
				return dst, errBadDelta
			}
			w += copy(out[w:], base[ofs:ofs+n])
		case c != 0:
			n := int(c)
			if n > len(delta)-i || n > len(out)-w {
				return dst, errBadDelta
			}
			w += copy(out[w:], delta[i:i+n])
			i += n
		default:
			return dst, errBadDelta
		}
	}
	if w != len(out) {
		return dst, fmt.Errorf("delta wrote %d of %d bytes: %w", w, len(out), errBadDelta)
	}
	return out, nil
}
