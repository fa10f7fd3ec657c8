package source

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileArchivesAreBounded: a bomb of any shape costs at most what the
// limits allow (the bytes handed to the detector are counted, so the bound is
// checked, not timed), and is said in a few warnings naming the archive, not
// one per member.
func TestHostileArchivesAreBounded(t *testing.T) {
	const expanded = 32 << 20
	tests := []struct {
		name     string
		file     func(t *testing.T) []byte
		maxBytes int64    // bytes handed to the detector, at most
		warned   []string // parts of one warning
		maxWarns int
	}{
		{"overlapping zip bomb: 5000 members over one kernel", func(t *testing.T) []byte { return overlappingZip(t, 5000, 4<<20) },
			expanded, []string{"a: archive limit exceeded: compression ratio over 200 in ", " more members"}, 3},
		{"overlapping members each declared past the member bound", func(t *testing.T) []byte { return overlappingZip(t, 5000, 300<<20) },
			0, []string{"a: archive limit exceeded: member size over 268435456 in 4999 more members"}, 2},
		{"a member whose header says 1 KiB and holds 8 MiB", func(t *testing.T) []byte { return lyingZip(t, 8<<20, 1<<10) },
			1 << 10, []string{"a!a.txt: zip: the member holds more than its header declares"}, 1},
		{"gzip of 64 MiB of text", func(t *testing.T) []byte { return gzOf(t, bytes.Repeat([]byte("A"), 64<<20)) },
			2 << 20, []string{"a: archive limit exceeded: compression ratio over 200"}, 1},
		{"zips nested 12 deep", func(t *testing.T) []byte {
			data := zipOf(t, member{"deep.txt", []byte("text")})
			for i := 12; i > 1; i-- {
				data = zipOf(t, member{fmt.Sprintf("l%d.zip", i), data})
			}
			return data
		}, 0, []string{"a!l2.zip!l3.zip!l4.zip: zip nested deeper than 3 archive levels: archive limit exceeded"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "a"), tc.file(t))
			te := newTestEnv()
			if err := ScanFS(context.Background(), root, FSOptions{Workers: 1, Limits: ArchiveLimits{MaxExpanded: expanded}}, te.Env); err != nil {
				t.Fatal(err)
			}
			// The read that crosses a bound is the last: at most one buffer past it.
			if got := te.Stats.Bytes.Load(); got > tc.maxBytes+64<<10 {
				t.Errorf("%d bytes scanned, want at most %d", got, tc.maxBytes)
			}
			warns := te.warnings()
			if !te.warnedAbout(tc.warned...) || len(warns) > tc.maxWarns {
				t.Errorf("warnings (%d) %q; want at most %d, one with %q", len(warns), head(warns, 5), tc.maxWarns, tc.warned)
			}
		})
	}
}

// TestBrokenArchivesAloneWarnOnce: a corrupt or truncated zip or gzip is
// one warning naming it and why.
func TestBrokenArchivesAloneWarnOnce(t *testing.T) {
	text := bytes.Repeat([]byte("some text, not a key\n"), 10000)
	zipped, gzipped := zipOf(t, member{"a.txt", text}), gzOf(t, text)
	corrupt := bytes.Clone(gzipped)
	copy(corrupt[20:], bytes.Repeat([]byte{0xff}, 40))
	for name, tc := range map[string]struct {
		data []byte
		says string
	}{
		"zip cut in half":          {zipped[:len(zipped)/2], "a: zip: not a valid zip file"},
		"zip without its end":      {zipped[:len(zipped)-10], "a: zip: not a valid zip file"},
		"gzip cut in half":         {gzipped[:len(gzipped)/2], "a: truncated: the input ends at byte "},
		"gzip corrupt in its body": {corrupt, "a: flate: corrupt input before offset"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeFile(t, filepath.Join(root, "a"), tc.data)
			te := newTestEnv()
			if err := ScanFS(context.Background(), root, FSOptions{}, te.Env); err != nil {
				t.Fatal(err)
			}
			if w := te.warnings(); len(w) != 1 || !strings.Contains(w[0], tc.says) {
				t.Errorf("warnings %q; want one with %q", w, tc.says)
			}
		})
	}
}

func head(s []string, n int) []string { return s[:min(n, len(s))] }

// deflated returns n bytes of 'A' deflated, and their CRC-32.
func deflated(t *testing.T, n int) ([]byte, uint32) {
	t.Helper()
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	chunk := bytes.Repeat([]byte("A"), 1<<20)
	crc := crc32.NewIEEE()
	for left := n; left > 0; left -= len(chunk) {
		c := chunk[:min(left, len(chunk))]
		fw.Write(c)
		crc.Write(c)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), crc.Sum32()
}

// overlappingZip is a zip bomb of David Fifield's kind: one local entry and
// members central-directory entries that all point at it, each declaring
// size bytes.
func overlappingZip(t *testing.T, members, size int) []byte {
	data, crc := deflated(t, min(size, 4<<20))
	var out bytes.Buffer
	le := binary.LittleEndian
	local := []any{uint32(0x04034b50), uint16(20), uint16(0), uint16(8), uint16(0), uint16(0), crc,
		uint32(len(data)), uint32(size), uint16(1), uint16(0)}
	for _, v := range local {
		binary.Write(&out, le, v)
	}
	out.WriteString("k")
	out.Write(data)
	cdStart := out.Len()
	for i := range members {
		name := fmt.Sprintf("m%05d.txt", i)
		for _, v := range []any{uint32(0x02014b50), uint16(20), uint16(20), uint16(0), uint16(8), uint16(0), uint16(0), crc,
			uint32(len(data)), uint32(size), uint16(len(name)), uint16(0), uint16(0), uint16(0), uint16(0), uint32(0), uint32(0)} {
			binary.Write(&out, le, v)
		}
		out.WriteString(name)
	}
	cdLen := out.Len() - cdStart
	for _, v := range []any{uint32(0x06054b50), uint16(0), uint16(0), uint16(members), uint16(members), uint32(cdLen), uint32(cdStart), uint16(0)} {
		binary.Write(&out, le, v)
	}
	return out.Bytes()
}

// lyingZip is a zip of one member a.txt holding n bytes whose headers
// declare it holds declared.
func lyingZip(t *testing.T, n, declared int) []byte {
	data := zipOf(t, member{"a.txt", bytes.Repeat([]byte("A"), n)})
	var size [4]byte
	binary.LittleEndian.PutUint32(size[:], uint32(n))
	var want [4]byte
	binary.LittleEndian.PutUint32(want[:], uint32(declared))
	if c := bytes.Count(data, size[:]); c < 1 {
		t.Fatalf("size field not found")
	}
	return bytes.ReplaceAll(data, size[:], want[:])
}
