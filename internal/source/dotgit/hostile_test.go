package dotgit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/scan"
)

// hostileSite serves an exposed .env with a key; the paths under /.git/
// answer as mode says: a redirect loop on the same host, or headers that
// come only after the per-request bound.
func hostileSite(t *testing.T, mode string, keyID string) (*httptest.Server, *atomic.Int64) {
	var gitRequests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/.env":
			_, _ = w.Write([]byte(envBody(keyID, "dotgit-hostile")))
		case strings.HasPrefix(r.URL.Path, "/.git/") && mode == "loop":
			gitRequests.Add(1)
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/.git/") && mode == "slow":
			gitRequests.Add(1)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &gitRequests
}

// TestScanURL_HostilePathsAreWarnedAndTheRestScanned: a .git/ that redirects
// in a loop or answers too slowly is warned about once, naming the bound,
// and what else the site exposes is still reported; the work is bounded by
// the redirect bound (5) and the per-request bound, not by the site.
func TestScanURL_HostilePathsAreWarnedAndTheRestScanned(t *testing.T) {
	for mode, warn := range map[string]string{
		"loop": "stopped after 5 redirects",
		"slow": "no answer within the per-request bound of 300ms",
	} {
		t.Run(mode, func(t *testing.T) {
			keyID := awstest.FakeKeyID("dotgit-"+mode, 444455556666)
			srv, gitRequests := hostileSite(t, mode, keyID)
			res := scanSite(t, srv.URL, Options{RequestTimeout: 300 * time.Millisecond})
			if res.err != nil {
				t.Fatalf("ScanURL: %v", res.err)
			}
			res.keyFinding(t, keyID)
			n := 0
			for _, w := range res.warnings {
				if strings.Contains(w, warn) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("warnings %q; want one saying %q", res.warnings, warn)
			}
			if got := gitRequests.Load(); got > 6*8 {
				t.Errorf("%d requests under .git/; want them bounded by the few paths probed", got)
			}
			for _, f := range res.findings {
				if f.Rule == scan.RuleExposedGit {
					t.Errorf("a .git/ that never answered taken for an exposure: %v", f)
				}
			}
		})
	}
}

// TestScanURL_SiteThatNeverAnswersIsOneError: when every path loops or
// stalls, nothing could be read: one error naming the site and why.
func TestScanURL_SiteThatNeverAnswersIsOneError(t *testing.T) {
	for mode, says := range map[string]string{
		"loop": "stopped after 5 redirects",
		"slow": "no answer within the per-request bound of 300ms",
	} {
		t.Run(mode, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if mode == "loop" {
					http.Redirect(w, r, r.URL.Path, http.StatusFound)
					return
				}
				<-r.Context().Done()
			}))
			t.Cleanup(srv.Close)
			res := scanSite(t, srv.URL, Options{RequestTimeout: 300 * time.Millisecond})
			if res.err == nil || !strings.Contains(res.err.Error(), srv.URL) || !strings.Contains(res.err.Error(), says) {
				t.Errorf("err = %v; want one naming %s and saying %q", res.err, srv.URL, says)
			}
		})
	}
}
