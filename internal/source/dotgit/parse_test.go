package dotgit

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func deflate(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestParseLooseObject(t *testing.T) {
	blob := object{typ: "blob", data: []byte("hello\n")}
	good := deflate(t, []byte("blob 6\x00hello\n"))
	tests := []struct {
		name    string
		raw     []byte
		id      string
		wantErr string
	}{
		{"valid blob", good, objectID(blob), ""},
		{"id mismatch", good, strings.Repeat("a", 40), "does not match"},
		{"not zlib", []byte("<html>"), "", "inflate"},
		{"bad type", deflate(t, []byte("bomb 1\x00x")), "", "bad header"},
		{"size larger than data", deflate(t, []byte("blob 9\x00hello\n")), "", "declared 9 bytes"},
		{"size smaller than data", deflate(t, []byte("blob 2\x00hello\n")), "", "holds more"},
		{"declared size past the bound", deflate(t, []byte("blob 99999999999\x00x")), "", "per-object bound"},
		{"header without end", deflate(t, bytes.Repeat([]byte("b"), 100)), "", "header too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := parseLooseObject(tc.raw, tc.id, 1<<20)
			if tc.wantErr == "" {
				if err != nil || obj.typ != blob.typ || string(obj.data) != string(blob.data) {
					t.Fatalf("got %+v, %v; want %+v", obj, err, blob)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v; want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseLooseObject_ZlibBombIsBounded(t *testing.T) {
	// Declares a small size but inflates to 16 MiB: reading stops past the size.
	big := append([]byte("blob 10\x00"), make([]byte, 16<<20)...)
	raw := deflate(t, big)
	if _, err := parseLooseObject(raw, "", 1<<20); err == nil || !strings.Contains(err.Error(), "holds more") {
		t.Fatalf("err = %v; want the size mismatch", err)
	}
}

func TestParseCommit(t *testing.T) {
	tree, parent := strings.Repeat("1", 40), strings.Repeat("2", 40)
	data := "tree " + tree + "\nparent " + parent + "\nauthor Ann Lee <ann@example.com> 1704103200 +0100\n" +
		"committer X <x@y> 1 +0000\n\nparent " + strings.Repeat("3", 40) + " in the message\n"
	c, err := parseCommit("c", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{tree, parent, "Ann Lee <ann@example.com>"}, append([]string{c.tree}, append(c.parents, c.author)...)); diff != "" {
		t.Errorf("commit (-want +got):\n%s", diff)
	}
	if want := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC); !c.date.Equal(want) {
		t.Errorf("date = %v; want %v", c.date, want)
	}
	if _, err := parseCommit("c", []byte("author x\n")); err == nil {
		t.Error("commit without tree parsed")
	}
}

func TestParseTree_RejectsHostileNames(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 20)
	for _, name := range []string{"..", ".", "a/b", ""} {
		data := append([]byte("100644 "+name+"\x00"), id...)
		if _, err := parseTree(data); err == nil {
			t.Errorf("tree entry %q accepted", name)
		}
	}
	data := append([]byte("40000 dir\x00"), id...)
	got, err := parseTree(data)
	if err != nil || len(got) != 1 || !got[0].isTree() || got[0].id != hex.EncodeToString(id) {
		t.Errorf("parseTree = %+v, %v", got, err)
	}
}

// TestParseIndex_GitVersions checks the parser against indexes written by git
// itself in each version it supports.
func TestParseIndex_GitVersions(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not available")
	}
	for _, version := range []string{"2", "3", "4"} {
		t.Run("v"+version, func(t *testing.T) {
			dir := t.TempDir()
			runGit(t, dir, "2024-01-01T10:00:00Z", "init", "--quiet")
			files := []string{"a.txt", "dir/long-name-shared-prefix-1.txt", "dir/long-name-shared-prefix-2.txt", "z"}
			for _, f := range files {
				writeFile(t, dir, f, "content of "+f)
			}
			runGit(t, dir, "2024-01-01T10:00:00Z", "add", ".")
			if version == "3" {
				// An intent-to-add entry sets the extended flags that make a v3 index.
				writeFile(t, dir, "later.txt", "x")
				runGit(t, dir, "2024-01-01T10:00:00Z", "add", "-N", "later.txt")
				files = append(files, "later.txt")
			}
			runGit(t, dir, "2024-01-01T10:00:00Z", "update-index", "--index-version", version)
			data := readFile(t, filepath.Join(dir, ".git", "index"))
			if got := binary.BigEndian.Uint32(data[4:8]); fmt.Sprint(got) != version {
				t.Fatalf("git wrote index version %d", got)
			}
			entries, err := parseIndex(data)
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			for _, e := range entries {
				paths = append(paths, e.path)
				if want := runGit(t, dir, "", "rev-parse", ":"+e.path); e.id != want {
					t.Errorf("%s: id %s, git says %s", e.path, e.id, want)
				}
			}
			want := []string{"a.txt", "dir/long-name-shared-prefix-1.txt", "dir/long-name-shared-prefix-2.txt", "z"}
			if version == "3" {
				want = []string{"a.txt", "dir/long-name-shared-prefix-1.txt", "dir/long-name-shared-prefix-2.txt", "later.txt", "z"}
			}
			if diff := cmp.Diff(want, paths); diff != "" {
				t.Errorf("paths (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseIndex_Malformed(t *testing.T) {
	for name, data := range map[string][]byte{
		"html":              []byte("<html></html>"),
		"bad version":       append([]byte("DIRC\x00\x00\x00\x09"), make([]byte, 4)...),
		"count past data":   []byte("DIRC\x00\x00\x00\x02\xff\xff\xff\xff"),
		"entry without nul": append([]byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x01"), bytes.Repeat([]byte{1}, 70)...),
	} {
		t.Run(name, func(t *testing.T) {
			if entries, err := parseIndex(data); err == nil {
				t.Errorf("parseIndex = %+v, nil error", entries)
			}
		})
	}
}

func TestParseHEADAndRefs(t *testing.T) {
	id := strings.Repeat("c", 40)
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"ref: refs/heads/main\n", true},
		{id + "\n", true},
		{"<html>ref: refs/heads/main</html>", false},
		{"ref: HEAD", false},
		{"", false},
	} {
		if _, _, ok := parseHEAD([]byte(tc.body)); ok != tc.ok {
			t.Errorf("parseHEAD(%q) ok = %v; want %v", tc.body, ok, tc.ok)
		}
	}
	r := newRefScan()
	r.parseText([]byte(zeroID + " " + id + " A <a@b> 1 +0000\tcheckout: moving from main to feature/x\n" +
		"# pack-refs with: peeled\n" + strings.Repeat("d", 40) + " refs/tags/v1\n^" + strings.Repeat("e", 40) + "\n"))
	if diff := cmp.Diff([]string{id, strings.Repeat("d", 40), strings.Repeat("e", 40)}, r.ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if !r.seenRef["refs/heads/feature/x"] || !r.seenRef["refs/heads/main"] || r.refIDs["refs/tags/v1"] != strings.Repeat("d", 40) {
		t.Errorf("refs = %v, refIDs = %v", r.refs, r.refIDs)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSameHost(t *testing.T) {
	base := mustURL(t, "http://example.com/app/")
	for _, tc := range []struct {
		next string
		want bool
	}{
		{"http://example.com/other", true},
		{"http://EXAMPLE.com/x", true},
		{"https://example.com/app/", true},
		{"https://example.com:8443/app/", false},
		{"http://example.com:8080/", false},
		{"http://evil.example/", false},
		{"http://169.254.169.254/latest/meta-data/", false},
	} {
		if got := sameHost(mustURL(t, tc.next), base); got != tc.want {
			t.Errorf("sameHost(%s) = %v; want %v", tc.next, got, tc.want)
		}
	}
	if sameHost(mustURL(t, "http://example.com/"), mustURL(t, "https://example.com/")) {
		t.Error("a downgrade from https to http was allowed")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
