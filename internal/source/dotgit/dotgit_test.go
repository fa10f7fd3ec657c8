package dotgit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// leakyRepo is a work tree whose history leaked keys in three ways.
type leakyRepo struct {
	dir                      string
	deletedKey, headKey      string // key ids
	stagedKey, resetKey      string
	deletedCommit, addCommit string
	resetCommit              string // reachable only from the reflog
}

// buildLeakyRepo commits a key then deletes it, packs everything with git gc,
// then adds a loose commit holding a second key, and stages (without
// committing) a third: packed objects, loose objects and index-only blobs.
func buildLeakyRepo(t testing.TB) leakyRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not available")
	}
	r := leakyRepo{
		dir:        t.TempDir(),
		deletedKey: awstest.FakeKeyID("dotgit-deleted", 111122223333),
		headKey:    awstest.FakeKeyID("dotgit-head", 111122223333),
		stagedKey:  awstest.FakeKeyID("dotgit-staged", 111122223333),
		resetKey:   awstest.FakeKeyID("dotgit-reset", 111122223333),
	}
	d := r.dir
	runGit(t, d, "2024-01-01T10:00:00Z", "init", "--quiet", "-b", "main")
	writeFile(t, d, "README.md", "# site\n")
	runGit(t, d, "2024-01-01T10:00:00Z", "add", ".")
	runGit(t, d, "2024-01-01T10:00:00Z", "commit", "--quiet", "-m", "init")
	writeFile(t, d, "config/prod.env", envBody(r.deletedKey, "dotgit-deleted"))
	runGit(t, d, "2024-01-02T10:00:00Z", "add", ".")
	runGit(t, d, "2024-01-02T10:00:00Z", "commit", "--quiet", "-m", "add prod config")
	r.deletedCommit = runGit(t, d, "2024-01-02T10:00:00Z", "rev-parse", "HEAD")
	runGit(t, d, "2024-01-03T10:00:00Z", "rm", "--quiet", "config/prod.env")
	runGit(t, d, "2024-01-03T10:00:00Z", "commit", "--quiet", "-m", "remove secrets")
	runGit(t, d, "2024-01-03T10:00:00Z", "gc", "--quiet")

	writeFile(t, d, "app/settings.py", fmt.Sprintf("AWS_ACCESS_KEY_ID = %q\nAWS_SECRET_ACCESS_KEY = %q\n",
		r.headKey, awstest.FakeSecret("dotgit-head")))
	runGit(t, d, "2024-01-04T10:00:00Z", "add", ".")
	runGit(t, d, "2024-01-04T10:00:00Z", "commit", "--quiet", "-m", "settings")
	r.addCommit = runGit(t, d, "2024-01-04T10:00:00Z", "rev-parse", "HEAD")

	writeFile(t, d, "deploy/keys.txt", envBody(r.resetKey, "dotgit-reset"))
	runGit(t, d, "2024-01-04T12:00:00Z", "add", ".")
	runGit(t, d, "2024-01-04T12:00:00Z", "commit", "--quiet", "-m", "oops")
	r.resetCommit = runGit(t, d, "2024-01-04T12:00:00Z", "rev-parse", "HEAD")
	runGit(t, d, "2024-01-04T12:00:00Z", "reset", "--quiet", "--hard", "HEAD~1")
	if err := os.Remove(filepath.Join(d, ".git", "ORIG_HEAD")); err != nil {
		t.Fatal(err) // only the reflog is left to find the commit by
	}

	writeFile(t, d, "staged.env", envBody(r.stagedKey, "dotgit-staged"))
	runGit(t, d, "2024-01-05T10:00:00Z", "add", "staged.env")

	if _, err := os.Stat(filepath.Join(d, ".git", "objects", "info", "packs")); err != nil {
		t.Fatalf("git gc left no objects/info/packs: %v", err)
	}
	return r
}

func envBody(keyID, seed string) string {
	return fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", keyID, awstest.FakeSecret(seed))
}

func TestScanURL_RebuildsExposedRepository(t *testing.T) {
	repo := buildLeakyRepo(t)
	s := &site{root: repo.dir}
	srv := serve(t, s)
	res := scanSite(t, srv.URL+"/", Options{})
	if res.err != nil {
		t.Fatalf("ScanURL: %v", res.err)
	}
	seen := map[string]bool{}
	for _, p := range s.requested() {
		if seen[p] {
			t.Errorf("%s requested twice", p)
		}
		seen[p] = true
	}
	exposed := res.byRule(scan.RuleExposedGit)
	if len(exposed) != 1 || exposed[0].Path != srv.URL+"/.git/" || exposed[0].Source != "url" || exposed[0].Message == "" {
		t.Fatalf("exposure findings = %+v, want one at %s/.git/", exposed, srv.URL)
	}
	gitURL := srv.URL + "/.git "
	tests := []struct {
		name   string
		keyID  string
		path   string
		commit string
		inHead bool
	}{
		{"key deleted from history, packed", repo.deletedKey, gitURL + "config/prod.env", repo.deletedCommit, false},
		{"key at HEAD, loose", repo.headKey, gitURL + "app/settings.py", repo.addCommit, true},
		{"key staged only, from the index", repo.stagedKey, gitURL + "staged.env", "", false},
		{"key in a commit only the reflog names", repo.resetKey, gitURL + "deploy/keys.txt", repo.resetCommit, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := res.keyFinding(t, tc.keyID)
			got := []any{f.Rule, f.Source, f.Path, f.Commit, f.InHead}
			want := []any{scan.RuleKeyPair, "url", tc.path, tc.commit, tc.inHead}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("finding (-want +got):\n%s", diff)
			}
			if tc.commit != "" && (f.Author != "Dev One <dev@example.com>" || f.Date.IsZero()) {
				t.Errorf("author, date = %q, %v; want the commit's", f.Author, f.Date)
			}
		})
	}
	if len(res.warnings) != 0 {
		t.Errorf("warnings on a complete repository: %q", res.warnings)
	}
}

func TestScanURL_URLNamingTheGitDirectory(t *testing.T) {
	repo := buildLeakyRepo(t)
	srv := serve(t, &site{root: repo.dir})
	res := scanSite(t, srv.URL+"/.git/", Options{})
	if res.err != nil || len(res.byRule(scan.RuleExposedGit)) != 1 {
		t.Fatalf("err %v, findings %+v; want the exposure", res.err, res.findings)
	}
}

func TestScanURL_QuietSites(t *testing.T) {
	page := "<!DOCTYPE html><html><body><h1>Welcome</h1>ref: refs/heads/main [core]</body></html>"
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no git directory", http.NotFound},
		{"soft 404 html page for every path", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, page)
		}},
		{"soft 404 plain text echoing the path", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "no such file: %s\nTOKEN=%s\n", r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:], "x")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			res := scanSite(t, srv.URL, Options{})
			if res.err != nil || len(res.findings) != 0 {
				t.Fatalf("err %v, findings %+v; want none", res.err, res.findings)
			}
		})
	}
}

func TestScanURL_ExposedEnvFile(t *testing.T) {
	keyID := awstest.FakeKeyID("dotgit-env", 444455556666)
	srv := serve(t, &site{extra: map[string]string{
		"/.env":             "APP_ENV=production\n" + envBody(keyID, "dotgit-env"),
		"/.aws/credentials": "[default]\nregion = eu-west-1\n",
	}})
	res := scanSite(t, srv.URL, Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	var exposed []string
	for _, f := range res.byRule(scan.RuleExposedFile) {
		exposed = append(exposed, f.Path)
	}
	want := []string{srv.URL + "/.env", srv.URL + "/.aws/credentials"}
	if diff := cmp.Diff(want, exposed); diff != "" {
		t.Errorf("exposed files (-want +got):\n%s", diff)
	}
	f := res.keyFinding(t, keyID)
	if f.Path != srv.URL+"/.env" || f.Source != "url" || f.Rule != scan.RuleKeyPair {
		t.Errorf("key finding at %s (%s, %s); want %s/.env", f.Path, f.Source, f.Rule, srv.URL)
	}
}

func TestScanURL_RedirectToAnotherHostIsNotFollowed(t *testing.T) {
	var hits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "ref: refs/heads/main\n")
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	res := scanSite(t, srv.URL, Options{})
	if res.err != nil || len(res.findings) != 0 {
		t.Fatalf("err %v, findings %+v; want none", res.err, res.findings)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the other host got %d requests; want 0", n)
	}
	if !res.warned("refused redirect") {
		t.Errorf("warnings %q; want one about the refused redirect", res.warnings)
	}
}

func TestScanURL_EndlessBodyIsCutByTheByteBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("A=B\n", 8<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	res := scanSite(t, srv.URL, Options{MaxBytes: 2 << 20, MaxObjectBytes: 1 << 30, Timeout: time.Minute})
	if res.err != nil || len(res.findings) != 0 {
		t.Fatalf("err %v, findings %+v; want none", res.err, res.findings)
	}
	if !res.warned("byte bound") {
		t.Errorf("warnings %q; want the byte bound", res.warnings)
	}
}

func TestScanURL_RequestBoundStopsEarlyWithWarning(t *testing.T) {
	repo := buildLeakyRepo(t)
	s := &site{root: repo.dir}
	srv := serve(t, s)
	limit := len(leakFiles) + 8
	res := scanSite(t, srv.URL, Options{MaxRequests: limit})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.byRule(scan.RuleExposedGit)) != 1 {
		t.Errorf("findings %+v; want the exposure found before the bound", res.findings)
	}
	if !res.warned("request bound of") {
		t.Errorf("warnings %q; want the request bound", res.warnings)
	}
	if n := len(s.requested()); n > limit {
		t.Errorf("site got %d requests; bound was %d", n, limit)
	}
}

func TestScanURL_BadInput(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name, url, wantInErr string
	}{
		{"unparseable", "http://[::1", "cannot parse"},
		{"not http", "ftp://example.com/", "scheme must be http or https"},
		{"no scheme", "example.com", "scheme must be http or https"},
		{"unreachable host", closedURL, strings.TrimPrefix(closedURL, "http://")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := scanSite(t, tc.url, Options{RequestTimeout: 5 * time.Second})
			if res.err == nil || !strings.Contains(res.err.Error(), tc.wantInErr) {
				t.Fatalf("err = %v; want one containing %q", res.err, tc.wantInErr)
			}
			if strings.Contains(res.err.Error(), "\n") {
				t.Errorf("error spans lines: %q", res.err)
			}
		})
	}
}

// TestScanURL_HostileServer serves a .git whose objects are a zlib bomb,
// garbage, an absurd declared size, a slow drip, and a corrupt pack: the scan
// must end, report the exposure, and warn, without a panic or a hang.
func TestScanURL_HostileServer(t *testing.T) {
	loose := func(typ string, data []byte) (string, []byte) {
		obj := object{typ: typ, data: data}
		return objectID(obj), deflate(t, append([]byte(fmt.Sprintf("%s %d\x00", typ, len(data))), data...))
	}
	garbageID, dripID, hugeID := strings.Repeat("1", 40), strings.Repeat("2", 40), strings.Repeat("3", 40)
	bombID := strings.Repeat("4", 40)
	commitID, commitRaw := loose("commit", []byte("tree "+garbageID+"\nparent "+dripID+"\nparent "+hugeID+
		"\nparent "+bombID+"\nauthor A <a@b> 1 +0000\n\nx\n"))
	objPath := func(id string) string { return "/.git/objects/" + id[:2] + "/" + id[2:] }
	files := map[string][]byte{
		"/.git/HEAD":               []byte(commitID + "\n"),
		"/.git/config":             []byte("[core]\n\tbare = false\n"),
		"/.git/objects/info/packs": []byte("P pack-" + strings.Repeat("9", 40) + ".pack\n"),
		"/.git/objects/pack/pack-" + strings.Repeat("9", 40) + ".idx":  append([]byte("\xfftOc\x00\x00\x00\x02"), make([]byte, 2000)...),
		"/.git/objects/pack/pack-" + strings.Repeat("9", 40) + ".pack": append([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x05"), bytes.Repeat([]byte{0xff}, 500)...),
		"/.git/index":      append([]byte("DIRC\x00\x00\x00\x02\x7f\xff\xff\xff"), bytes.Repeat([]byte{0}, 100)...),
		objPath(commitID):  commitRaw,
		objPath(garbageID): []byte("not zlib at all"),
		objPath(hugeID):    deflate(t, []byte("blob 999999999999999\x00tiny")),
		objPath(bombID):    deflate(t, append([]byte("blob 5\x00"), make([]byte, 4<<20)...)),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == objPath(dripID) {
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte{0x78}); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
			return
		}
		if b, ok := files[r.URL.Path]; ok {
			_, _ = w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	res := scanSite(t, srv.URL, Options{RequestTimeout: 500 * time.Millisecond, MaxObjectBytes: 1 << 20})
	if res.err != nil {
		t.Fatal(res.err)
	}
	for _, w := range res.warnings {
		t.Log("warning:", w)
	}
	if len(res.byRule(scan.RuleExposedGit)) != 1 {
		t.Errorf("findings %+v; want the exposure", res.findings)
	}
	for _, want := range []string{"inflate object " + garbageID, "per-object bound", "holds more", "per-request bound", "objects could not be fetched"} {
		if !res.warned(want) {
			t.Errorf("warnings %q; want one containing %q", res.warnings, want)
		}
	}
}

func TestScanURL_CancelledByCallerIsAnError(t *testing.T) {
	srv := serve(t, &site{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := ScanURL(ctx, srv.URL, Options{}, scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
}

// BenchmarkScanURL rebuilds and scans the test repository over loopback
// (packed history, loose commits, reflog, index) and reports requests per scan.
func BenchmarkScanURL(b *testing.B) {
	repo := buildLeakyRepo(b)
	s := &site{root: repo.dir}
	srv := serve(b, s)
	env := scan.Env{Detector: scan.NewDetector(), Sink: &scan.Collector{}}
	for b.Loop() {
		if err := ScanURL(b.Context(), srv.URL, Options{}, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.requested()))/float64(b.N), "requests/op")
}
