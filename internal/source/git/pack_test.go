package git

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// packBlobs reads every blob of the repository at dir with the pack reader
// and returns each one's git object id, computed from the content it
// produced: a wrong delta or a wrong id both show.
func packBlobs(t testing.TB, dir string, trees bool) (map[string]string, *packScan) {
	t.Helper()
	g := newGitCmd(dir, false)
	st, err := openRepo(context.Background(), g, dir)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := objectDirs(filepath.Join(st.commonDir, "objects"))
	ps, err := openStore(dirs, scan.Env{}, trees)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.close()
	var mu sync.Mutex
	got := map[string]string{}
	ps.onBlob = func(id string, data []byte) {
		sum := blobID(data)
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[id]; dup {
			t.Errorf("blob %s read twice", id)
		}
		got[id] = sum
	}
	if err := ps.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ps.fallback {
		got[id] = "fallback"
	}
	return got, ps
}

func blobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// catFileBlobs lists every blob as `git cat-file --batch-all-objects` sees it.
func catFileBlobs(t testing.TB, dir string) map[string]string {
	t.Helper()
	g := newGitCmd(dir, false)
	inv, err := listObjects(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, id := range inv.blobs {
		want[id] = id
	}
	return want
}

// The pack reader must yield every blob cat-file lists, each once and with
// content that hashes back to its id, across packs and loose objects.
func TestPackReaderYieldsWhatCatFileDoes(t *testing.T) {
	r := awstest.NewGitRepo(t)
	buildHistory(r, 60)
	r.Git("gc", "-q", "--aggressive")
	// A second pack, and loose objects beside it.
	buildHistory(r, 10)
	r.Git("repack", "-q", "-d")
	buildHistory(r, 5)
	r.Write("dangling.txt", "nobody commits me\n")
	r.Git("hash-object", "-w", "dangling.txt")
	packs, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.pack"))
	if len(packs) < 2 {
		t.Fatalf("want at least two packs, got %d", len(packs))
	}
	got, ps := packBlobs(t, r.Dir, true)
	if len(ps.loose) == 0 {
		t.Fatal("want loose objects too")
	}
	if diff := cmp.Diff(catFileBlobs(t, r.Dir), got); diff != "" {
		t.Errorf("blob ids -> id of the content read (-cat-file +pack reader):\n%s", diff)
	}
	if len(ps.damaged) != 0 || len(ps.missing) != 0 {
		t.Errorf("damaged %v, missing %v; want none", ps.damaged, ps.missingIDs())
	}
	if n, d := countDeltas(t, r); n == 0 || d == 0 {
		t.Errorf("test repository has %d blobs, %d deltified: want deltas", n, d)
	}
}

// buildHistory commits n edits of a few growing files, which git deltifies.
func buildHistory(r *awstest.GitRepo, n int) {
	for i := range n {
		var b strings.Builder
		for j := range 200 + i*7 {
			fmt.Fprintf(&b, "line %d of file, revision %d\n", j, i*(j%5))
		}
		r.Write(fmt.Sprintf("dir%d/file.txt", i%3), b.String())
		r.Write("big.txt", strings.Repeat(b.String(), 3)+strconv.Itoa(i))
		r.Commit(fmt.Sprintf("edit %d", i))
	}
}

// countDeltas counts the repository's blobs and how many are stored as deltas.
func countDeltas(t testing.TB, r *awstest.GitRepo) (blobs, deltas int) {
	out := r.Git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(deltabase)")
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		typ, base, _ := strings.Cut(sc.Text(), " ")
		if typ == "blob" {
			blobs++
			if strings.Trim(base, "0") != "" {
				deltas++
			}
		}
	}
	return blobs, deltas
}

// TestPackReaderOnBenchRepo checks the pack reader against cat-file on the
// large repository KEYWARDEN_BENCH_REPO names; skipped when it is unset.
func TestPackReaderOnBenchRepo(t *testing.T) {
	dir := os.Getenv("KEYWARDEN_BENCH_REPO")
	if dir == "" {
		t.Skip("KEYWARDEN_BENCH_REPO is not set")
	}
	got, ps := packBlobs(t, dir, true)
	want := catFileBlobs(t, dir)
	bad := 0
	for id := range want {
		if got[id] != id && got[id] != "fallback" {
			if bad++; bad < 10 {
				t.Errorf("blob %s read as %q", id, got[id])
			}
		}
	}
	t.Logf("%d blobs, %d read, %d bad, %d fallback, %d damaged, missing %d", len(want), len(got), bad,
		len(ps.fallback), len(ps.damaged), len(ps.missing))
}

func TestScanRepoHandsObjectsTooLargeToHoldToCatFile(t *testing.T) {
	defer func(old uint64) { maxHeld = old }(maxHeld)
	maxHeld = 4 << 10
	r := awstest.NewGitRepo(t)
	k := newKey("large")
	pad := strings.Repeat("# padding line to make the file large\n", 200)
	c := r.CommitFile("big/creds", pad+k.file, "add creds")
	r.CommitFile("big/creds", pad+k.file+pad, "grow")
	r.Git("gc", "-q", "--aggressive")
	findings, warns := scanRepo(t, r.Dir, Options{})
	if diff := cmp.Diff([]got{pairAt(r, k, "big/creds", c, 1, true)}, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	if _, ps := packBlobs(t, r.Dir, false); len(ps.fallback) == 0 {
		t.Errorf("no object was left to cat-file: the test does not test the fallback")
	}
}

func TestScanRepoNamesBlobsAPartialCloneLacks(t *testing.T) {
	r := awstest.NewGitRepo(t)
	k := newKey("partial")
	r.CommitFile("large.txt", strings.Repeat("too large for the filter\n", 200), "large")
	c := r.CommitFile("creds", k.file, "add creds")
	large := r.Git("rev-parse", "HEAD:large.txt")
	r.Git("config", "uploadpack.allowFilter", "true")
	clone := filepath.Join(t.TempDir(), "clone.git")
	r.Git("clone", "-q", "--bare", "--no-local", "--filter=blob:limit=1k", "file://"+r.Dir, clone)
	findings, warns := scanRepo(t, clone, Options{})
	if diff := cmp.Diff([]got{pairAt(r, k, "creds", c, 2, true)}, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Error(), large[:12]) || !strings.Contains(warns[0].Error(), "1 objects") {
		t.Errorf("warnings = %v, want one naming %s", warns, large[:12])
	}
}

func TestScanRepoWarnsAboutADamagedPackAndScansTheRest(t *testing.T) {
	r := awstest.NewGitRepo(t)
	k := newKey("damaged")
	r.CommitFile("victim.txt", "this blob's compressed data will be damaged\n", "victim")
	c := r.CommitFile("creds", k.file, "add creds")
	victim := r.Git("rev-parse", "HEAD:victim.txt")
	r.Git("gc", "-q")
	damageObject(t, r, victim)
	findings, warns := scanRepo(t, r.Dir, Options{})
	if diff := cmp.Diff([]got{pairAt(r, k, "creds", c, 2, true)}, findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Error(), victim[:12]) || !strings.Contains(warns[0].Error(), "unreadable") {
		t.Errorf("warnings = %v, want one naming %s as unreadable", warns, victim[:12])
	}
}

// damageObject overwrites the zlib header of a packed object.
func damageObject(t *testing.T, r *awstest.GitRepo, id string) {
	t.Helper()
	patchPackedObject(t, r, id, func(o packObj) ([]byte, int64) { return []byte{0, 0}, int64(o.off) + int64(o.hdr) })
}

// patchPackedObject writes what patch returns for packed object id at the
// offset it returns, in the repository's one pack.
func patchPackedObject(t *testing.T, r *awstest.GitRepo, id string, patch func(o packObj) ([]byte, int64)) {
	t.Helper()
	idxs, _ := filepath.Glob(filepath.Join(r.Dir, ".git", "objects", "pack", "*.idx"))
	if len(idxs) != 1 {
		t.Fatalf("want one pack, got %d", len(idxs))
	}
	p, err := openPack(idxs[0])
	if err != nil {
		t.Fatal(err)
	}
	p.close()
	want, _ := hex.DecodeString(id)
	for _, o := range p.objs {
		if !bytes.Equal(p.idx.oid(int(o.pos)), want) {
			continue
		}
		data, off := patch(o)
		packPath := strings.TrimSuffix(idxs[0], ".idx") + ".pack"
		os.Chmod(packPath, 0o644)
		f, err := os.OpenFile(packPath, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("object %s not in the pack", id)
}

func TestScanRepoReadsSHA256RepositoriesThroughCatFile(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) error {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=A", "-c", "user.email=a@example.com"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, out)
		}
		return nil
	}
	if err := git("init", "-q", "--object-format=sha256"); err != nil {
		t.Skipf("git cannot make SHA-256 repositories: %v", err)
	}
	k := newKey("sha256")
	if err := os.WriteFile(filepath.Join(dir, "creds"), []byte(k.file), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(git("add", "creds"), git("commit", "-q", "-m", "add")); err != nil {
		t.Fatal(err)
	}
	findings, _ := scanRepo(t, dir, Options{})
	if len(findings) != 1 || findings[0].KeyID != k.id || findings[0].Path != "creds" {
		t.Errorf("findings = %+v, want the key in creds", findings)
	}
}
