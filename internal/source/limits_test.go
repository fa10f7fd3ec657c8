package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanFSArchiveLimits: past a limit the scan warns, naming the archive
// and the limit, and carries on with the rest of the tree.
func TestScanFSArchiveLimits(t *testing.T) {
	c1, id1 := creds("limits-1")
	c2, _ := creds("limits-2")
	// Highly compressible: a bomb in miniature, key at the very end.
	bomb := append(bytes.Repeat([]byte{'A'}, 8<<20), c2...)
	nest := func(t *testing.T, levels int, payload member) []byte {
		data := zipOf(t, payload)
		for i := levels - 1; i >= 1; i-- {
			data = zipOf(t, member{fmt.Sprintf("l%d.zip", i+1), data}, member{fmt.Sprintf("k%d.env", i), []byte(c1)})
		}
		return data
	}
	tests := []struct {
		name   string
		opts   FSOptions
		file   func(t *testing.T) []byte
		want   []hit    // besides the plain file every case has
		warned []string // parts of one expected warning
	}{
		{"zip bomb stopped by ratio", FSOptions{},
			func(t *testing.T) []byte {
				return zipOf(t, member{"ok.env", []byte(c1)}, member{"bomb.txt", bomb})
			},
			[]hit{{"archive", "a!ok.env", id1}}, []string{"a!bomb.txt", "compression ratio over 200"}},
		{"gz bomb stopped by ratio", FSOptions{},
			func(t *testing.T) []byte { return gzOf(t, bomb) },
			nil, []string{"archive", "/a:", "compression ratio"}},
		{"member over size limit", FSOptions{Limits: ArchiveLimits{MaxMember: 1 << 20}},
			func(t *testing.T) []byte {
				return tarOf(t, member{"big.txt", textFiller(2 << 20)}, member{"ok.env", []byte(c1)})
			},
			[]hit{{"archive", "a!ok.env", id1}}, []string{"a!big.txt", "member size over 1048576"}},
		{"expanded total over limit", FSOptions{Limits: ArchiveLimits{MaxExpanded: 1 << 20}},
			func(t *testing.T) []byte {
				return gzOf(t, tarOf(t, member{"ok.env", []byte(c1)}, member{"big.txt", textFiller(2 << 20)}))
			},
			[]hit{{"archive", "a!ok.env", id1}}, []string{"expanded size over 1048576"}},
		{"member count over limit", FSOptions{Limits: ArchiveLimits{MaxMembers: 2}},
			func(t *testing.T) []byte {
				return zipOf(t, member{"1.env", []byte(c1)}, member{"2.txt", nil}, member{"3.env", []byte(c2)})
			},
			[]hit{{"archive", "a!1.env", id1}}, []string{"member count over 2"}},
		{"nesting past the depth limit", FSOptions{MaxArchiveDepth: 3},
			func(t *testing.T) []byte { return nest(t, 4, member{"deep.env", []byte(c2)}) },
			[]hit{
				{"archive", "a!k1.env", id1},
				{"archive", "a!l2.zip!k2.env", id1},
				{"archive", "a!l2.zip!l3.zip!k3.env", id1},
			}, []string{"a!l2.zip!l3.zip!l4.zip", "nested deeper than 3"}},
		{"corrupt zip", FSOptions{},
			func(t *testing.T) []byte { return append([]byte("PK\x03\x04"), textFiller(100)...) },
			nil, []string{"/a:", "zip"}},
		{"truncated tar.gz", FSOptions{},
			func(t *testing.T) []byte {
				data := gzOf(t, tarOf(t, member{"ok.env", []byte(c1)}, member{"x.txt", textFiller(200 << 10)}))
				return data[:len(data)/2]
			},
			[]hit{{"archive", "a!ok.env", id1}}, []string{"a!x.txt", "unexpected EOF"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			plain, plainID := creds("plain-beside")
			writeFile(t, filepath.Join(root, "a"), tc.file(t))
			writeFile(t, filepath.Join(root, "plain.env"), []byte(plain))
			te := newTestEnv()
			if err := ScanFS(context.Background(), root, tc.opts, te.Env); err != nil {
				t.Fatal(err)
			}
			want := rooted(root, append(tc.want, hit{"file", "plain.env", plainID}))
			sortHits(want)
			if diff := cmp.Diff(want, te.hits()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if !te.warnedAbout(tc.warned...) {
				t.Errorf("warnings = %q, want one with %q", te.warnings(), tc.warned)
			}
			if te.Stats.Skipped.Load() == 0 {
				t.Error("nothing counted as skipped")
			}
		})
	}
}

// TestLimitWarningsWrapErrLimit lets callers tell limits from corruption.
func TestLimitWarningsWrapErrLimit(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "bomb.gz"), gzOf(t, bytes.Repeat([]byte{'A'}, 4<<20)))
	var got []error
	te := newTestEnv()
	te.Warn = func(err error) { got = append(got, err) }
	if err := ScanFS(context.Background(), root, FSOptions{Workers: 1}, te.Env); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !errors.Is(got[0], ErrLimit) {
		t.Fatalf("warnings = %v, want one wrapping ErrLimit", got)
	}
}
