package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
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
