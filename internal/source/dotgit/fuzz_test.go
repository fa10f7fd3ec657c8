package dotgit

import (
	"bytes"
	"testing"
)

func FuzzParseIndex(f *testing.F) {
	entry := func(path string) []byte {
		e := make([]byte, 62)
		e[24], e[25] = 0x00, 0x00
		e[26], e[27] = 0x81, 0xa4 // mode 0100644
		copy(e[40:60], bytes.Repeat([]byte{0xab}, 20))
		e[61] = byte(len(path))
		e = append(e, path...)
		for len(e)%8 != 0 || e[len(e)-1] != 0 {
			e = append(e, 0)
		}
		return e
	}
	f.Add(append([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x01"), entry("a.txt")...))
	f.Add(append([]byte("DIRC\x00\x00\x00\x04\x00\x00\x00\x01"), append(make([]byte, 62), 0x00, 'a', 0)...))
	f.Add([]byte("DIRC\x00\x00\x00\x03\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := parseIndex(data)
		if len(entries) > len(data)/62+1 {
			t.Fatalf("%d entries from %d bytes", len(entries), len(data))
		}
		for _, e := range entries {
			if !isObjectID(e.id) {
				t.Fatalf("entry id %q", e.id)
			}
		}
	})
}

func FuzzLooseObject(f *testing.F) {
	f.Add(deflate(f, []byte("blob 5\x00hello")))
	f.Add(deflate(f, []byte("commit 20\x00tree 0000\nparent x\n\n")))
	f.Add(deflate(f, []byte("tree 27\x00100644 a\x00aaaaaaaaaaaaaaaaaaaa")))
	f.Add([]byte("x\x9c"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := parseLooseObject(raw, "", 1<<16)
		if err != nil {
			return
		}
		if len(obj.data) > 1<<16 {
			t.Fatalf("object of %d bytes past the bound", len(obj.data))
		}
		// Whatever the object claims to be, the walk's parsers must not panic on it.
		switch obj.typ {
		case "tree":
			_, _ = parseTree(obj.data)
		case "commit":
			_, _ = parseCommit("x", obj.data)
		case "tag":
			_, _ = parseTagTarget(obj.data)
		}
	})
}

func FuzzParseTree(f *testing.F) {
	f.Add(append([]byte("100644 a.txt\x00"), bytes.Repeat([]byte{1}, 20)...))
	f.Add([]byte("40000 d\x00short"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, _ := parseTree(data)
		for _, e := range entries {
			if e.name == "" || e.name == ".." || bytes.ContainsRune([]byte(e.name), '/') || !isObjectID(e.id) {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func FuzzRefText(f *testing.F) {
	f.Add([]byte("0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 A <a> 1 +0000\tcheckout: moving from a to b\n"))
	f.Add([]byte("ref: refs/heads/main\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = parseHEAD(data)
		r := newRefScan()
		r.parseText(data)
		if len(r.seenRef) > maxRefs {
			t.Fatalf("%d refs past the bound", len(r.seenRef))
		}
	})
}
