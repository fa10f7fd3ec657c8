package dotgit

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

// indexEntry is one file of the work tree as .git/index records it.
type indexEntry struct {
	path string
	id   string
}

// maxIndexEntries bounds how many entries a hostile index may make us hold,
// whatever its header claims.
const maxIndexEntries = 1 << 20

var errShortIndex = errors.New("index truncated")

// parseIndex reads the entries of a .git/index file (versions 2, 3 and 4).
// Extensions and the trailing checksum are ignored: only the blob ids and
// paths matter, and they stay useful when the commits that held them are gone.
// On a malformed entry it returns what it read before it, with an error.
func parseIndex(data []byte) ([]indexEntry, error) {
	if len(data) < 12 || string(data[:4]) != "DIRC" {
		return nil, errors.New("not a git index (no DIRC signature)")
	}
	version := binary.BigEndian.Uint32(data[4:8])
	if version < 2 || version > 4 {
		return nil, fmt.Errorf("git index version %d not supported", version)
	}
	count := binary.BigEndian.Uint32(data[8:12])
	var out []indexEntry
	prev := ""
	p := data[12:]
	for i := uint32(0); i < count && i < maxIndexEntries; i++ {
		e, rest, err := parseIndexEntry(p, version, prev)
		if err != nil {
			return out, fmt.Errorf("index entry %d: %w", i, err)
		}
		p, prev = rest, e.path
		if e.id != "" {
			out = append(out, e)
		}
	}
	return out, nil
}

// parseIndexEntry reads one entry: 40 bytes of stat data (mode at offset 24),
// the 20-byte id, 2 bytes of flags, optional extended flags (v3+), then the
// path: NUL-terminated and padded to 8 bytes (v2/v3), or prefix-compressed
// against the previous path (v4). Entries that are not files get an empty id.
func parseIndexEntry(p []byte, version uint32, prev string) (indexEntry, []byte, error) {
	const fixed = 62
	if len(p) < fixed {
		return indexEntry{}, nil, errShortIndex
	}
	mode := binary.BigEndian.Uint32(p[24:28])
	id := hex.EncodeToString(p[40:60])
	flags := binary.BigEndian.Uint16(p[60:62])
	n := fixed
	if flags&0x4000 != 0 {
		if version < 3 {
			return indexEntry{}, nil, errors.New("extended flag in a version 2 index")
		}
		n += 2
	}
	if len(p) < n {
		return indexEntry{}, nil, errShortIndex
	}
	var path string
	var rest []byte
	if version == 4 {
		strip, used, ok := readOffsetVarint(p[n:])
		if !ok || strip > uint64(len(prev)) {
			return indexEntry{}, nil, errors.New("bad path prefix length")
		}
		name := p[n+used:]
		nul := bytes.IndexByte(name, 0)
		if nul < 0 {
			return indexEntry{}, nil, errShortIndex
		}
		path = prev[:len(prev)-int(strip)] + string(name[:nul])
		rest = name[nul+1:]
	} else {
		nul := bytes.IndexByte(p[n:], 0)
		if nul < 0 {
			return indexEntry{}, nil, errShortIndex
		}
		path = string(p[n : n+nul])
		total := (n + nul + 8) &^ 7 // 1 to 8 NULs pad the entry to a multiple of 8
		if total > len(p) {
			return indexEntry{}, nil, errShortIndex
		}
		rest = p[total:]
	}
	e := indexEntry{path: path}
	if kind := mode & 0o170000; kind == 0o100000 || kind == 0o120000 {
		e.id = id
	}
	return e, rest, nil
}

// readOffsetVarint decodes git's offset varint (used by index v4 and ofs-delta):
// each continuation adds one before shifting, so encodings are unique.
func readOffsetVarint(p []byte) (uint64, int, bool) {
	var v uint64
	for i := 0; i < len(p) && i < 10; i++ {
		c := p[i]
		if i > 0 {
			v++
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}
