package dotgit

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// object is one git object, inflated.
type object struct {
	typ  string // blob | tree | commit | tag
	data []byte
}

// parseLooseObject inflates a loose object file (zlib of "type size\0data"),
// reading at most maxSize bytes of data so that a zlib bomb costs no more than
// that, and checks the declared size. When id is not empty the content must
// hash to it: a server cannot hand us one object for another.
func parseLooseObject(raw []byte, id string, maxSize int64) (object, error) {
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return object{}, fmt.Errorf("inflate object %s: %w", id, err)
	}
	defer zr.Close()
	// The header is at most "commit " + 20 digits + NUL.
	hdr := make([]byte, 0, 32)
	one := make([]byte, 1)
	for {
		if _, err := io.ReadFull(zr, one); err != nil {
			return object{}, fmt.Errorf("inflate object %s header: %w", id, err)
		}
		if one[0] == 0 {
			break
		}
		if len(hdr) == 31 {
			return object{}, fmt.Errorf("object %s: header too long", id)
		}
		hdr = append(hdr, one[0])
	}
	typ, sizeStr, ok := strings.Cut(string(hdr), " ")
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if !ok || err != nil || size < 0 || !validType(typ) {
		return object{}, fmt.Errorf("object %s: bad header %q", id, hdr)
	}
	if size > maxSize {
		return object{}, fmt.Errorf("object %s: declared size %d exceeds the per-object bound of %d bytes", id, size, maxSize)
	}
	data := make([]byte, 0, min(size, 1<<20))
	buf := bytes.NewBuffer(data)
	n, err := io.Copy(buf, io.LimitReader(zr, size+1))
	if err != nil {
		return object{}, fmt.Errorf("inflate object %s: %w", id, err)
	}
	if n != size {
		return object{}, fmt.Errorf("object %s: declared %d bytes, holds %s", id, size, sizeWord(n, size))
	}
	obj := object{typ: typ, data: buf.Bytes()}
	if id != "" && objectID(obj) != id {
		return object{}, fmt.Errorf("object %s: content does not match its id", id)
	}
	return obj, nil
}

func sizeWord(n, size int64) string {
	if n > size {
		return "more"
	}
	return strconv.FormatInt(n, 10)
}

func validType(t string) bool {
	return t == "blob" || t == "tree" || t == "commit" || t == "tag"
}

// objectID is the SHA-1 object name of obj.
func objectID(obj object) string {
	h := sha1.New()
	fmt.Fprintf(h, "%s %d\x00", obj.typ, len(obj.data))
	h.Write(obj.data)
	return hex.EncodeToString(h.Sum(nil))
}

// isObjectID reports whether s is a 40-character lower-case hex SHA-1 name.
func isObjectID(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// commitInfo is what the walk needs of a commit.
type commitInfo struct {
	id      string
	tree    string
	parents []string
	author  string
	date    time.Time
}

// parseCommit reads the header of a commit object. Unknown headers are
// ignored; a commit without a valid tree is an error.
func parseCommit(id string, data []byte) (commitInfo, error) {
	c := commitInfo{id: id}
	head, _, _ := bytes.Cut(data, []byte("\n\n"))
	for _, line := range strings.Split(string(head), "\n") {
		key, val, _ := strings.Cut(line, " ")
		switch key {
		case "tree":
			c.tree = val
		case "parent":
			if isObjectID(val) {
				c.parents = append(c.parents, val)
			}
		case "author":
			c.author, c.date = parseSignature(val)
		}
	}
	if !isObjectID(c.tree) {
		return commitInfo{}, fmt.Errorf("commit %s: no valid tree", id)
	}
	return c, nil
}

// parseSignature splits "Name <email> 1700000000 +0100" into the name and
// email, and the time.
func parseSignature(s string) (string, time.Time) {
	end := strings.LastIndexByte(s, '>')
	if end < 0 {
		return strings.TrimSpace(s), time.Time{}
	}
	who := s[:end+1]
	fields := strings.Fields(s[end+1:])
	if len(fields) == 0 {
		return who, time.Time{}
	}
	sec, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return who, time.Time{}
	}
	t := time.Unix(sec, 0).UTC()
	if len(fields) > 1 {
		if loc, ok := parseZone(fields[1]); ok {
			t = t.In(loc)
		}
	}
	return who, t
}

func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

// treeEntry is one entry of a tree object.
type treeEntry struct {
	mode string
	name string
	id   string
}

func (e treeEntry) isTree() bool { return e.mode == "40000" || e.mode == "040000" }

// isBlob reports whether the entry is a file or a symlink (not a submodule).
func (e treeEntry) isBlob() bool { return strings.HasPrefix(e.mode, "10") || e.mode == "120000" }

var errBadTree = errors.New("malformed tree")

// parseTree reads a tree object: repeated "mode name\0" + 20-byte id.
func parseTree(data []byte) ([]treeEntry, error) {
	var out []treeEntry
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp <= 0 || nul < sp || len(data) < nul+21 {
			return out, errBadTree
		}
		name := string(data[sp+1 : nul])
		if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
			return out, errBadTree
		}
		out = append(out, treeEntry{
			mode: string(data[:sp]),
			name: name,
			id:   hex.EncodeToString(data[nul+1 : nul+21]),
		})
		data = data[nul+21:]
	}
	return out, nil
}

// parseTagTarget returns the object an annotated tag points at.
func parseTagTarget(data []byte) (string, bool) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	id, ok := strings.CutPrefix(string(line), "object ")
	return id, ok && isObjectID(id)
}
