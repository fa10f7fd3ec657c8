package git

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// idxBytes builds a version-2 index for the given ids (sorted) and offsets.
func idxBytes(ids [][]byte, offs []uint64) []byte {
	var b bytes.Buffer
	b.Write(idxMagic)
	binary.Write(&b, binary.BigEndian, uint32(2))
	var fan [256]uint32
	for _, id := range ids {
		for j := int(id[0]); j < 256; j++ {
			fan[j]++
		}
	}
	binary.Write(&b, binary.BigEndian, fan)
	for _, id := range ids {
		b.Write(id)
	}
	b.Write(make([]byte, 4*len(ids))) // CRCs
	var large []uint64
	for _, off := range offs {
		if off >= 1<<31 {
			binary.Write(&b, binary.BigEndian, uint32(0x80000000|len(large)))
			large = append(large, off)
		} else {
			binary.Write(&b, binary.BigEndian, uint32(off))
		}
	}
	for _, off := range large {
		binary.Write(&b, binary.BigEndian, off)
	}
	b.Write(make([]byte, 2*oidLen))
	return b.Bytes()
}

func TestParseIdxReadsOffsetsAndFindsIDs(t *testing.T) {
	a, c := bytes.Repeat([]byte{0x11}, oidLen), bytes.Repeat([]byte{0xee}, oidLen)
	x, err := parseIdx(idxBytes([][]byte{a, c}, []uint64{12, 5 << 32}))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []uint64{12, 5 << 32} {
		if got, err := x.offset(i); err != nil || got != want {
			t.Errorf("offset(%d) = %d, %v; want %d", i, got, err, want)
		}
	}
	if i, ok := x.find(c); !ok || i != 1 {
		t.Errorf("find(ee..) = %d, %v; want 1, true", i, ok)
	}
	if _, ok := x.find(bytes.Repeat([]byte{0x12}, oidLen)); ok {
		t.Errorf("find(absent id) = true")
	}
}

// FuzzParseIdx: a hostile index must never panic, whatever it declares.
func FuzzParseIdx(f *testing.F) {
	f.Add(idxBytes([][]byte{bytes.Repeat([]byte{1}, oidLen)}, []uint64{12}))
	f.Add(idxBytes([][]byte{bytes.Repeat([]byte{1}, oidLen), bytes.Repeat([]byte{9}, oidLen)}, []uint64{12, 1 << 33}))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := parseIdx(data)
		if err != nil {
			return
		}
		for i := range x.n {
			x.offset(i)
			if j, ok := x.find(x.oid(i)); !ok && j != 0 {
				t.Fatalf("find of an indexed id failed oddly")
			}
		}
	})
}

func TestParseObjHeader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want objHeader
		bad  bool
	}{
		{"small blob", []byte{0x35}, objHeader{typ: objBlob, size: 5, n: 1}, false},
		{"multi-byte size", []byte{0x9f, 0x01}, objHeader{typ: objCommit, size: 31, n: 2}, false},
		{"ofs delta", []byte{0x60, 0x81, 0x00}, objHeader{typ: objOfsDelta, baseOfs: 256, n: 3}, false},
		{"unknown type 5", []byte{0x50}, objHeader{}, true},
		{"size runs off the end", []byte{0xb0}, objHeader{}, true},
		{"ref delta without its id", []byte{0x70, 1, 2}, objHeader{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := parseObjHeader(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want bad %v", err, tt.bad)
			}
			if !tt.bad && (h.typ != tt.want.typ || h.size != tt.want.size || h.baseOfs != tt.want.baseOfs || h.n != tt.want.n) {
				t.Errorf("header = %+v, want %+v", h, tt.want)
			}
		})
	}
}

// FuzzParseObjHeader: never panic, never claim more bytes than given.
func FuzzParseObjHeader(f *testing.F) {
	f.Add([]byte{0x35})
	f.Add([]byte{0xe0, 0x81, 0x81, 0x00})
	f.Add(append([]byte{0x70}, make([]byte, oidLen)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := parseObjHeader(data)
		if err == nil && (h.n > len(data) || h.n > maxObjHeader) {
			t.Fatalf("header length %d of %d bytes", h.n, len(data))
		}
	})
}

func TestApplyDelta(t *testing.T) {
	base := []byte("hello, world\n")
	tests := []struct {
		name  string
		delta []byte
		want  string
		bad   bool
	}{
		{"copy then insert", []byte{13, 12, 0x91, 0, 7, 5, 't', 'h', 'e', 'r', 'e'}, "hello, there", false},
		{"whole base", []byte{13, 13, 0x90, 13}, "hello, world\n", false},
		{"copy past the base", []byte{13, 20, 0x91, 10, 20}, "", true},
		{"insert past the result", []byte{13, 2, 3, 'a', 'b', 'c'}, "", true},
		{"result shorter than declared", []byte{13, 5, 2, 'a', 'b'}, "", true},
		{"wrong base size", []byte{12, 1, 1, 'a'}, "", true},
		{"reserved opcode", []byte{13, 1, 0}, "", true},
		{"result beyond the limit", []byte{13, 0x80, 0x80, 0x80, 0x80, 0x10}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applyDelta(base, tt.delta, nil, 1<<20)
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want bad %v", err, tt.bad)
			}
			if !tt.bad && string(got) != tt.want {
				t.Errorf("result = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzApplyDelta: a hostile delta must never panic, overrun, or produce
// more than the declared (and limited) size.
func FuzzApplyDelta(f *testing.F) {
	f.Add([]byte("hello, world\n"), []byte{13, 12, 0x91, 0, 7, 5, 't', 'h', 'e', 'r', 'e'})
	f.Add([]byte("x"), []byte{1, 0xff, 0xff, 0x03, 0xb0})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		out, err := applyDelta(base, delta, nil, 1<<16)
		if err != nil {
			return
		}
		_, size, _, _ := deltaSizes(delta)
		if uint64(len(out)) != size || size > 1<<16 {
			t.Fatalf("result of %d bytes, declared %d", len(out), size)
		}
	})
}
