package source

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/gap"
)

// TestScanFSTree builds one tree holding every case the walk must get right
// and checks exactly which keys come out, and where.
func TestScanFSTree(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "tree")
	outside := filepath.Join(base, "outside.env")
	slash := filepath.ToSlash(root)

	top, topID := creds("top")
	deep, deepID := creds("deep")
	big, bigID := creds("big")
	bin, _ := creds("binary")
	out, _ := creds("outside")
	git, _ := creds("git")
	vendored, _ := creds("vendored")
	skippedFile, _ := creds("skipped-file")

	writeFile(t, filepath.Join(root, "top.env"), []byte(top))
	writeFile(t, filepath.Join(root, "a", "b", "c", "deep.cfg"), []byte(deep))
	// Over the streaming threshold, key near the end.
	filler := bytes.Repeat([]byte("just some log line without secrets\n"), 3*DefaultStreamThreshold/35)
	writeFile(t, filepath.Join(root, "logs", "big.log"), append(filler, big...))
	writeFile(t, filepath.Join(root, "bin.dat"), append([]byte("\x00\x01binary\n"), bin...))
	writeFile(t, outside, []byte(out))
	if err := os.Symlink(outside, filepath.Join(root, "link.env")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(root, "a", "loop")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, ".git", "config"), []byte(git))
	writeFile(t, filepath.Join(root, "vendor", "lib.env"), []byte(vendored))
	writeFile(t, filepath.Join(root, "a", "allowed.env"), []byte(skippedFile))

	te := newTestEnv()
	skip := func(rel string) bool { return rel == "vendor" || rel == "a/allowed.env" }
	if err := ScanFS(context.Background(), root, FSOptions{Skip: skip}, te.Env); err != nil {
		t.Fatal(err)
	}
	want := []hit{
		{"file", slash + "/a/b/c/deep.cfg", deepID},
		{"file", slash + "/logs/big.log", bigID},
		{"file", slash + "/top.env", topID},
	}
	if diff := cmp.Diff(want, te.hits()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if got := te.Stats.Objects.Load(); got != 3 {
		t.Errorf("objects scanned = %d, want 3 (top, deep, big)", got)
	}
	if got := te.Stats.Skipped.Load(); got != 1 {
		t.Errorf("skipped = %d, want 1 (the binary)", got)
	}
	if w := te.warnings(); len(w) != 0 {
		t.Errorf("unexpected warnings: %q", w)
	}
}

// TestScanFSPaths checks that locations read as the user would write them.
func TestScanFSPaths(t *testing.T) {
	dir := t.TempDir()
	content, id := creds("paths")
	writeFile(t, filepath.Join(dir, "src", "app", "k.env"), []byte(content))
	t.Chdir(dir)
	tests := []struct {
		name, root, want string
	}{
		{"dot root drops ./", ".", "src/app/k.env"},
		{"dot-slash root drops ./", "./src", "src/app/k.env"},
		{"trailing slash", "src/", "src/app/k.env"},
		{"single file", "./src/app/k.env", "src/app/k.env"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			te := newTestEnv()
			if err := ScanFS(context.Background(), tc.root, FSOptions{}, te.Env); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]hit{{"file", tc.want, id}}, te.hits()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanFSMissingRootIsError(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	err := ScanFS(context.Background(), missing, FSOptions{}, newTestEnv().Env)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v, want not-exist naming %s", err, missing)
	}
}

func TestScanFSUnreadableFileWarnsAndContinues(t *testing.T) {
	if !awstest.PermissionsEnforced(t) {
		return
	}
	root := t.TempDir()
	ok, id := creds("readable")
	bad, _ := creds("unreadable")
	writeFile(t, filepath.Join(root, "ok.env"), []byte(ok))
	writeFile(t, filepath.Join(root, "bad.env"), []byte(bad))
	writeFile(t, filepath.Join(root, "locked", "x.env"), []byte(bad))
	awstest.Unreadable(t, filepath.Join(root, "bad.env"), filepath.Join(root, "locked"))

	te := newTestEnv()
	if err := ScanFS(context.Background(), root, FSOptions{}, te.Env); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]hit{{"file", path.Join(filepath.ToSlash(root), "ok.env"), id}}, te.hits()); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	want := []string{path.Join(filepath.ToSlash(root), "bad.env") + ": permission denied",
		path.Join(filepath.ToSlash(root), "locked") + ": permission denied"}
	if diff := cmp.Diff(want, te.warnings(), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestScanFSUnreadableRootIsError(t *testing.T) {
	if !awstest.PermissionsEnforced(t) {
		return
	}
	root := filepath.Join(t.TempDir(), "locked")
	writeFile(t, filepath.Join(root, "x.env"), []byte("nothing"))
	awstest.Unreadable(t, root)
	err := ScanFS(context.Background(), root, FSOptions{}, newTestEnv().Env)
	if !errors.Is(err, fs.ErrPermission) || err.Error() != root+": permission denied" {
		t.Fatalf("err = %v, want permission error naming %s", err, root)
	}
	if !errors.As(err, new(*gap.Err)) {
		t.Errorf("err = %#v, want a gap: the input could not be read", err)
	}
}

func TestScanFSCancelled(t *testing.T) {
	root := t.TempDir()
	for i := range 50 {
		writeFile(t, filepath.Join(root, "d", string(rune('a'+i%26)), "f"+string(rune('a'+i/26))), []byte("x"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ScanFS(ctx, root, FSOptions{}, newTestEnv().Env)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestScanFSManyFilesEachOnce checks that the worker pool neither loses nor
// duplicates a file, whatever the scheduling.
func TestScanFSManyFilesEachOnce(t *testing.T) {
	root := t.TempDir()
	want := []hit{}
	for i := range 200 {
		seed := "many" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		content, id := creds(seed)
		rel := path.Join("d"+string(rune('a'+i%7)), seed+".env")
		writeFile(t, filepath.Join(root, filepath.FromSlash(rel)), []byte(content))
		want = append(want, hit{"file", path.Join(filepath.ToSlash(root), rel), id})
	}
	te := newTestEnv()
	if err := ScanFS(context.Background(), root, FSOptions{Workers: 8}, te.Env); err != nil {
		t.Fatal(err)
	}
	got := te.hits()
	sortHits(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if n := te.Stats.Objects.Load(); n != 200 {
		t.Errorf("objects = %d, want 200", n)
	}
}
