package drill

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// Site is a scratch repository's .git/ served over HTTP, as a web server
// that deploys its work tree with the repository exposes it: on loopback
// only (127.0.0.1, a port the system picks), for the leak step's life, and
// under a random path prefix of 128 bits that stands for a token: a request
// outside it is answered 404, so another local process cannot read the
// key without the prefix, which is never journaled nor printed.
type Site struct {
	token string
	srv   *http.Server
	addr  string
}

// ServeGit serves repo's .git/ at Site.URL()+".git/" until Close.
func ServeGit(repo string) (*Site, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("serve .git/: token: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("serve .git/ on loopback: %w", err)
	}
	s := &Site{token: hex.EncodeToString(b), addr: ln.Addr().String()}
	prefix := "/" + s.token + "/.git/"
	files := http.StripPrefix(prefix, http.FileServer(http.Dir(filepath.Join(repo, ".git"))))
	s.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead || !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			ln.Close()
		}
	}()
	return s, nil
}

// URL is the site's root, token included: for the scan, never for a report.
func (s *Site) URL() string { return "http://" + s.addr + "/" + s.token + "/" }

// Shown is the site's root as reports say it: the token left out.
func (s *Site) Shown() string { return "http://" + s.addr + "/…/" }

// Redact replaces the token in text (a finding's location).
func (s *Site) Redact(text string) string { return strings.ReplaceAll(text, s.token, "…") }

// Close stops the server and closes its connections.
func (s *Site) Close() error { return s.srv.Close() }
