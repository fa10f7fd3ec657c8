package dotgit

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keywarden/keywarden/internal/scan"
)

// runGit runs git in dir with a fixed identity and the given commit date, and
// returns its trimmed output.
func runGit(t testing.TB, dir, date string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("") // an empty pipe, not os.DevNull
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(dir, ".git", "no-global-config"),
		"GIT_AUTHOR_NAME=Dev One", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev One", "GIT_COMMITTER_EMAIL=dev@example.com",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t testing.TB, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// site serves a directory as static files, without directory listings (a
// directory is a 404, as on most servers), plus extra in-memory files. It
// records every path requested.
type site struct {
	root  string            // served at /, may be empty
	extra map[string]string // URL path -> body
	mu    sync.Mutex
	paths []string
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.mu.Unlock()
	p := path.Clean(r.URL.Path)
	if body, ok := s.extra[p]; ok {
		_, _ = w.Write([]byte(body))
		return
	}
	if s.root == "" {
		http.NotFound(w, r)
		return
	}
	fp := filepath.Join(s.root, filepath.FromSlash(p))
	st, err := os.Stat(fp)
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	http.ServeFile(w, r, fp)
}

func (s *site) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func serve(t testing.TB, s *site) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

// result is what one ScanURL run produced.
type result struct {
	findings []scan.Finding
	warnings []string
	err      error
}

func scanSite(t *testing.T, u string, opts Options) result {
	t.Helper()
	var mu sync.Mutex
	var res result
	col := &scan.Collector{}
	env := scan.Env{
		Detector: scan.NewDetector(),
		Sink:     col,
		Stats:    &scan.Stats{},
		Warn: func(err error) {
			mu.Lock()
			res.warnings = append(res.warnings, err.Error())
			mu.Unlock()
		},
	}
	res.err = ScanURL(t.Context(), u, opts, env)
	res.findings = col.Findings()
	return res
}

func (r result) byRule(rule scan.Rule) []scan.Finding {
	var out []scan.Finding
	for _, f := range r.findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// keyFinding returns the finding for keyID, or fails.
func (r result) keyFinding(t *testing.T, keyID string) scan.Finding {
	t.Helper()
	for _, f := range r.findings {
		if f.KeyID == keyID {
			return f
		}
	}
	t.Fatalf("no finding for key %s; findings: %+v", keyID, r.findings)
	return scan.Finding{}
}

func (r result) warned(substr string) bool {
	for _, w := range r.warnings {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}
