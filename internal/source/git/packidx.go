package git

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// oidLen is the length of a SHA-1 object id; SHA-256 repositories take the
// cat-file path instead.
const oidLen = 20

var (
	idxMagic       = []byte{0xff, 't', 'O', 'c'}
	errIdxTruncate = errors.New("index truncated")
)

// packIndex is a parsed version-2 pack index (.idx): sorted object ids and
// their offsets in the pack. It keeps the file's bytes and reads them in place.
type packIndex struct {
	data    []byte
	n       int // objects
	oids    int // start of the sorted object ids
	offs    int // start of the 4-byte offsets
	large   int // start of the 8-byte offsets
	nLarge  int
	fanout  [256]uint32
	trailer int // start of the checksums
}

// parseIdx checks the layout of a version-2 index and returns it. Nothing
// is verified beyond the layout: the index is trusted, as git trusts it.
func parseIdx(data []byte) (*packIndex, error) {
	const head = 8 + 256*4
	if len(data) < head+2*oidLen {
		return nil, errIdxTruncate
	}
	if !bytes.Equal(data[:4], idxMagic) {
		return nil, errors.New("index is not version 2")
	}
	if v := binary.BigEndian.Uint32(data[4:8]); v != 2 {
		return nil, fmt.Errorf("index version %d", v)
	}
	x := &packIndex{data: data}
	var prev uint32
	for i := range 256 {
		f := binary.BigEndian.Uint32(data[8+4*i:])
		if f < prev {
			return nil, errors.New("index fanout is not sorted")
		}
		x.fanout[i], prev = f, f
	}
	n := int(prev)
	// Each object takes an id, a CRC and an offset: 28 bytes.
	if n > (len(data)-head-2*oidLen)/(oidLen+8) {
		return nil, errIdxTruncate
	}
	x.n = n
	x.oids = head
	x.offs = head + n*(oidLen+4)
	x.large = x.offs + n*4
	rest := len(data) - x.large - 2*oidLen
	x.nLarge = rest / 8
	x.trailer = len(data) - 2*oidLen
	return x, nil
}

// oid returns the i-th object id (in id order).
func (x *packIndex) oid(i int) []byte {
	return x.data[x.oids+i*oidLen : x.oids+(i+1)*oidLen]
}

// offset returns the i-th object's offset in the pack.
func (x *packIndex) offset(i int) (uint64, error) {
	v := binary.BigEndian.Uint32(x.data[x.offs+4*i:])
	if v&0x80000000 == 0 {
		return uint64(v), nil
	}
	j := int(v &^ 0x80000000)
	if j >= x.nLarge {
		return 0, fmt.Errorf("index large offset %d out of range", j)
	}
	return binary.BigEndian.Uint64(x.data[x.large+8*j:]), nil
}

// find returns the position of id in the index.
func (x *packIndex) find(id []byte) (int, bool) {
	if len(id) != oidLen {
		return 0, false
	}
	lo := 0
	if id[0] > 0 {
		lo = int(x.fanout[id[0]-1])
	}
	hi := int(x.fanout[id[0]])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(x.oid(m), id); {
		case c == 0:
			return m, true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return 0, false
}
