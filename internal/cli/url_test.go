package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestScanURLReportsExposedEnvFile drives `scan --url` against a local site
// that serves a .env holding a key: the exposure and the key are findings.
func TestScanURLReportsExposedEnvFile(t *testing.T) {
	id, sec := awstest.FakeKeyID("site", 123456789012), awstest.FakeSecret("site")
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.env" {
			w.Header().Set("Content-Type", "text/plain")
			w.Write([]byte("APP_ENV=production\nAWS_ACCESS_KEY_ID=" + id + "\nAWS_SECRET_ACCESS_KEY=" + sec + "\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer site.Close()

	var stdout, stderr bytes.Buffer
	code := Main([]string{"scan", "--quiet", "--format", "jsonl", "--url", site.URL + "/"}, Deps{Stdout: &stdout, Stderr: &stderr})
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{`"rule":"exposed-sensitive-file"`, `"rule":"aws-access-key-pair"`, id, `"source":"url"`, site.URL + "/.env"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, sec) {
		t.Error("the secret was printed in clear")
	}
}

// TestScanURLUnreachableIsOneLineError: exit 2, one line naming the site.
func TestScanURLUnreachableIsOneLineError(t *testing.T) {
	site := httptest.NewServer(http.NotFoundHandler())
	url := site.URL
	site.Close()
	var stdout, stderr bytes.Buffer
	code := Main([]string{"scan", "--quiet", "--url", url}, Deps{Stdout: &stdout, Stderr: &stderr})
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != ExitError || !strings.HasPrefix(lines[0], "keywarden: ") || !strings.Contains(lines[0], strings.TrimPrefix(url, "http://")) {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line naming %s", code, stderr.String(), url)
	}
}
