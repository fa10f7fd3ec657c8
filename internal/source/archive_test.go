package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// member is one entry of an archive built by a test.
type member struct {
	name string
	data []byte
}

func zipOf(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarOf(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		hdr := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdOf(t testing.TB, data []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(data, nil)
}

// bzip2Of uses the bzip2 tool: the standard library only decompresses.
func bzip2Of(t testing.TB, data []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("bzip2"); err != nil {
		t.Skip("bzip2 tool not installed")
	}
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestScanFSArchives(t *testing.T) {
	c1, id1 := creds("archive-1")
	c2, id2 := creds("archive-2")
	tests := []struct {
		name  string
		files func(t *testing.T) map[string][]byte
		want  []hit // paths relative to the root
	}{
		{"zip member", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"creds.zip": zipOf(t, member{"dir/a.env", []byte(c1)}, member{"b.txt", []byte("nothing")})}
		}, []hit{{"archive", "creds.zip!dir/a.env", id1}}},
		{"tar member", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"creds.tar": tarOf(t, member{"a.env", []byte(c1)}, member{"b.env", []byte(c2)})}
		}, []hit{{"archive", "creds.tar!a.env", id1}, {"archive", "creds.tar!b.env", id2}}},
		{"tar.gz is one level", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"creds.tgz": gzOf(t, tarOf(t, member{"conf/a.env", []byte(c1)}))}
		}, []hit{{"archive", "creds.tgz!conf/a.env", id1}}},
		{"gz of text keeps the file path", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"notes.txt.gz": gzOf(t, []byte(c1))}
		}, []hit{{"file", "notes.txt.gz", id1}}},
		{"tar.zst", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"x.tar.zst": zstdOf(t, tarOf(t, member{"a.env", []byte(c1)}))}
		}, []hit{{"archive", "x.tar.zst!a.env", id1}}},
		{"tar.bz2", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"x.tbz": bzip2Of(t, tarOf(t, member{"a.env", []byte(c1)}))}
		}, []hit{{"archive", "x.tbz!a.env", id1}}},
		{"tar.gz inside zip", func(t *testing.T) map[string][]byte {
			inner := gzOf(t, tarOf(t, member{"file.env", []byte(c1)}))
			return map[string][]byte{"outer.zip": zipOf(t, member{"dir/inner.tar.gz", inner})}
		}, []hit{{"archive", "outer.zip!dir/inner.tar.gz!file.env", id1}}},
		{"zip inside tar.gz", func(t *testing.T) map[string][]byte {
			inner := zipOf(t, member{"file.env", []byte(c1)})
			return map[string][]byte{"outer.tar.gz": gzOf(t, tarOf(t, member{"lib/inner.jar", inner}))}
		}, []hit{{"archive", "outer.tar.gz!lib/inner.jar!file.env", id1}}},
		{"archive told by magic, not name", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"data.bin": zipOf(t, member{"a.env", []byte(c1)})}
		}, []hit{{"archive", "data.bin!a.env", id1}}},
		{"binary member passed over", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"b.zip": zipOf(t, member{"a.bin", append([]byte{0}, c1...)})}
		}, nil},
		{"big zip streamed from disk", func(t *testing.T) map[string][]byte {
			filler := textFiller(2 * DefaultStreamThreshold)
			return map[string][]byte{"big.zip": zipOf(t, member{"fill.bin", filler}, member{"a.env", []byte(c1)})}
		}, []hit{{"archive", "big.zip!a.env", id1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for name, data := range tc.files(t) {
				writeFile(t, filepath.Join(root, name), data)
			}
			te := newTestEnv()
			if err := ScanFS(context.Background(), root, FSOptions{}, te.Env); err != nil {
				t.Fatal(err)
			}
			want := rooted(root, tc.want)
			if diff := cmp.Diff(want, te.hits()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if w := te.warnings(); len(w) != 0 {
				t.Errorf("unexpected warnings: %q", w)
			}
		})
	}
}

// rooted prefixes the want paths with the scanned root.
func rooted(root string, hs []hit) []hit {
	var out []hit
	for _, h := range hs {
		h.Path = filepath.ToSlash(root) + "/" + h.Path
		out = append(out, h)
	}
	return out
}

// textFiller returns n bytes of text that compresses like source code, not
// like a bomb.
func textFiller(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d: value=%x checksum=%08x\n", i, i*7919, uint32(i)*2654435761)
	}
	return b.Bytes()[:n]
}

// TestScanFSBrokenArchivesWarnOnceNamingWhere: a truncated or corrupt
// archive or compressed stream is one warning naming the member it cut and
// the byte where the input ended; what came before the cut is still
// scanned, and an intact container goes on past a broken member.
func TestScanFSBrokenArchivesWarnOnceNamingWhere(t *testing.T) {
	c1, id1 := creds("broken-1")
	c2, id2 := creds("broken-2")
	filler := textFiller(4000)
	tarball := tarOf(t, member{"a.env", []byte(c1)}, member{"b.txt", filler})
	firstMember := 512 + (len(c1)+511)/512*512 // header and padded data of a.env
	tgz := gzOf(t, tarball)
	notes := gzOf(t, append([]byte(c1), textFiller(200_000)...))
	innerTgz := gzOf(t, tarOf(t, member{"a.env", []byte(c1)}))
	tests := []struct {
		name string
		data []byte
		want []hit
		warn string // %s: the file's path
	}{
		{"tar cut inside a member", tarball[:firstMember+512+1000],
			[]hit{{"archive", "x!a.env", id1}},
			fmt.Sprintf("%%s!b.txt: truncated: the input ends at byte %d (unexpected EOF)", firstMember+512+1000)},
		{"tgz without its gzip trailer", tgz[:len(tgz)-8],
			[]hit{{"archive", "x!a.env", id1}},
			fmt.Sprintf("%%s: truncated: the input ends at byte %d (read gzip: unexpected EOF)", len(tgz)-8)},
		{"gzip header cut", tgz[:5], nil,
			"%s: truncated: the input ends at byte 5 (read gzip: unexpected EOF)"},
		{"gzip of text cut", notes[:len(notes)/2],
			[]hit{{"file", "x", id1}},
			fmt.Sprintf("%%s: truncated: the input ends at byte %d (unexpected EOF)", len(notes)/2)},
		// Every byte of it was read, and GNU tar takes it without a word.
		{"tar ending between members without its end blocks", tarball[:firstMember],
			[]hit{{"archive", "x!a.env", id1}}, ""},
		{"corrupt deflate", append(slices.Clone(tgz[:10]), bytes.Repeat([]byte{0xff}, 64)...), nil,
			"%s: flate: corrupt input before offset 1"},
		{"cut tgz inside an intact zip", zipOf(t, member{"in.tgz", innerTgz[:len(innerTgz)-8]}, member{"b.env", []byte(c2)}),
			[]hit{{"archive", "x!b.env", id2}, {"archive", "x!in.tgz!a.env", id1}},
			"%s!in.tgz: truncated (read gzip: unexpected EOF)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "x")
			writeFile(t, file, tc.data)
			te := newTestEnv()
			if err := ScanFS(context.Background(), file, FSOptions{}, te.Env); err != nil {
				t.Fatal(err)
			}
			slash := filepath.ToSlash(file)
			var want []hit
			for _, h := range tc.want {
				h.Path = strings.Replace(h.Path, "x", slash, 1)
				want = append(want, h)
			}
			if diff := cmp.Diff(want, te.hits()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			var warn []string
			if tc.warn != "" {
				warn = []string{fmt.Sprintf(tc.warn, slash)}
			}
			if diff := cmp.Diff(warn, te.warnings()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
