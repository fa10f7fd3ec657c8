package drill

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeGitIsLoopbackBehindItsToken: the served .git/ is on 127.0.0.1,
// answers only under its random prefix, shows no token, and is gone after
// Close.
func TestServeGitIsLoopbackBehindItsToken(t *testing.T) {
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(repo, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o600)
	os.WriteFile(filepath.Join(repo, "secret.env"), []byte("work tree\n"), 0o600)
	s, err := ServeGit(repo)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || len(s.token) != 32 || strings.Contains(s.Shown(), s.token) || strings.Contains(s.Redact("at "+s.URL()), s.token) {
		t.Fatalf("url %s shown %s", s.URL(), s.Shown())
	}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(s.URL() + ".git/HEAD"); code != 200 || body != "ref: refs/heads/main\n" {
		t.Errorf("HEAD under the token: %d %q", code, body)
	}
	root := strings.TrimSuffix(s.URL(), s.token+"/")
	for _, u := range []string{root + ".git/HEAD", root + "x/.git/HEAD", s.URL() + "secret.env", s.URL() + ".git/../secret.env"} {
		if code, _ := get(u); code != 404 {
			t.Errorf("%s: %d, want 404", s.Redact(u), code)
		}
	}
	s.Close()
	if code, _ := get(s.URL() + ".git/HEAD"); code != 0 {
		t.Errorf("after Close: %d", code)
	}
}
