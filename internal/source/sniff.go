package source

import (
	"bytes"
	"strconv"
)

// kind is the format of a piece of content, told from its first bytes.
type kind int

const (
	kindPlain kind = iota
	kindZip
	kindTar
	kindGzip
	kindZstd
	kindBzip2
)

func (k kind) String() string {
	switch k {
	case kindZip:
		return "zip"
	case kindTar:
		return "tar"
	case kindGzip:
		return "gzip"
	case kindZstd:
		return "zstd"
	case kindBzip2:
		return "bzip2"
	}
	return "plain"
}

// compressed reports whether k is a single compressed stream (as opposed to a
// container of named members).
func (k kind) compressed() bool { return k == kindGzip || k == kindZstd || k == kindBzip2 }

// sniffLen is how many leading bytes sniff and isBinary look at.
const sniffLen = 8 << 10

// tarHeaderLen is the size of a tar header block.
const tarHeaderLen = 512

var (
	magicZip      = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magicGzip     = []byte{0x1f, 0x8b, 0x08} // 0x08: deflate, the only method gzip defines
	magicZstd     = []byte{0x28, 0xb5, 0x2f, 0xfd}
	bzBlockMagic  = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzEndMagic    = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

// sniff tells an archive from plain content by magic bytes, never by name:
// a renamed archive is still opened, and a file named .zip that is not one is
// scanned as what it is.
func sniff(head []byte) kind {
	switch {
	case bytes.HasPrefix(head, magicZip), bytes.HasPrefix(head, magicZipEmpty):
		return kindZip
	case bytes.HasPrefix(head, magicGzip):
		return kindGzip
	case bytes.HasPrefix(head, magicZstd):
		return kindZstd
	case isBzip2(head):
		return kindBzip2
	case isTar(head):
		return kindTar
	}
	return kindPlain
}

// isBzip2 checks "BZh" + block size digit + the magic of the first block (or
// of the end of an empty stream), so that text starting with "BZh1" is not
// mistaken for bzip2.
func isBzip2(head []byte) bool {
	if len(head) < 10 || head[0] != 'B' || head[1] != 'Z' || head[2] != 'h' || head[3] < '1' || head[3] > '9' {
		return false
	}
	return bytes.Equal(head[4:10], bzBlockMagic) || bytes.Equal(head[4:10], bzEndMagic)
}

// isTar accepts a POSIX/GNU header ("ustar" at offset 257) or an old V7
// header whose checksum is right.
func isTar(head []byte) bool {
	if len(head) < tarHeaderLen {
		return false
	}
	if bytes.Equal(head[257:262], []byte("ustar")) {
		return true
	}
	return head[0] != 0 && tarChecksumOK(head[:tarHeaderLen])
}

// tarChecksumOK verifies a header's checksum: the sum of its bytes with the
// checksum field itself counted as spaces.
func tarChecksumOK(h []byte) bool {
	field := bytes.Trim(h[148:156], " \x00")
	want, err := strconv.ParseInt(string(field), 8, 64)
	if err != nil || len(field) == 0 {
		return false
	}
	var sum int64
	for i, b := range h {
		if i >= 148 && i < 156 {
			b = ' '
		}
		sum += int64(b)
	}
	return sum == want
}

// isBinary applies the usual heuristic: a NUL byte in the first 8 KiB.
func isBinary(head []byte) bool {
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	return bytes.IndexByte(head, 0) >= 0
}
