package source

import (
	"bytes"
	"context"
	"io"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestScanStdin(t *testing.T) {
	c1, id1 := creds("stdin-1")
	c2, id2 := creds("stdin-2")
	tests := []struct {
		name  string
		input func(t *testing.T) []byte
		opts  FSOptions
		want  []hit
	}{
		{"plain text", func(t *testing.T) []byte { return []byte(c1) }, FSOptions{},
			[]hit{{"stdin", "-", id1}}},
		{"plain text longer than the sniff window", func(t *testing.T) []byte {
			return append(textFiller(3*sniffLen), c1...)
		}, FSOptions{}, []hit{{"stdin", "-", id1}}},
		{"gzip", func(t *testing.T) []byte { return gzOf(t, []byte(c1)) }, FSOptions{},
			[]hit{{"stdin", "-", id1}}},
		{"tar.gz", func(t *testing.T) []byte {
			return gzOf(t, tarOf(t, member{"a.env", []byte(c1)}, member{"b/c.env", []byte(c2)}))
		}, FSOptions{}, []hit{{"archive", "-!a.env", id1}, {"archive", "-!b/c.env", id2}}},
		{"zip buffered in memory", func(t *testing.T) []byte {
			return zipOf(t, member{"a.env", []byte(c1)})
		}, FSOptions{}, []hit{{"archive", "-!a.env", id1}}},
		{"zip spilled to a temp file", func(t *testing.T) []byte {
			return zipOf(t, member{"fill.txt", textFiller(64 << 10)}, member{"a.env", []byte(c1)})
		}, FSOptions{Limits: ArchiveLimits{MaxInMemory: 1 << 10}}, []hit{{"archive", "-!a.env", id1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv()
			// OneByteReader: stdin may deliver any amount per read.
			in := iotest.OneByteReader(bytes.NewReader(tc.input(t)))
			if err := ScanStdinWith(context.Background(), in, tc.opts, te.Env); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, te.hits()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if w := te.warnings(); len(w) != 0 {
				t.Errorf("unexpected warnings: %q", w)
			}
		})
	}
}

func TestScanStdinReadErrorIsReturned(t *testing.T) {
	err := ScanStdin(context.Background(), iotest.ErrReader(io.ErrClosedPipe), newTestEnv().Env)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("stdin")) {
		t.Fatalf("err = %v, want a read error naming stdin", err)
	}
}
