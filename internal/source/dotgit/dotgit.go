// Package dotgit checks a web site for an exposed .git/ directory and other
// well-known leak files, rebuilds what it can over HTTP, and scans it.
//
// Findings all have Source "url". An exposure (scan.RuleExposedGit,
// scan.RuleExposedFile) is reported at the URL of what was exposed, with a
// Message, whether or not a key is in it. A key in a leak file is located at
// the file's URL; a key in the repository at "<site>/.git <path in repo>"
// (for example "https://example.com/.git deploy/prod.env") with the commit,
// author and date of the first commit the walk found holding it.
package dotgit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/scan"
)

// Options bound the work done against one site. Zero fields take the defaults.
type Options struct {
	MaxRequests    int           // requests to the site (default 5,000)
	MaxBytes       int64         // bytes downloaded in all (default 256 MiB)
	MaxObjectBytes int64         // one response or one inflated object (default 32 MiB)
	Timeout        time.Duration // the whole scan (default 2 minutes)
	RequestTimeout time.Duration // one request, body included (default 20 seconds)
	// Transport carries the requests (default http.DefaultTransport); tests
	// may point it elsewhere. Redirects to another host are refused whatever it is.
	Transport http.RoundTripper
}

func (o Options) withDefaults() Options {
	if o.MaxRequests <= 0 {
		o.MaxRequests = 5000
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	if o.MaxObjectBytes <= 0 {
		o.MaxObjectBytes = 32 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 20 * time.Second
	}
	return o
}

// ScanURL scans the site at rawURL: its leak files, then its .git/. Reaching
// a bound is a warning (env.Warn) and the scan goes on with what it has; an
// unusable URL or an unreachable site is an error.
func ScanURL(ctx context.Context, rawURL string, opts Options, env scan.Env) error {
	base, err := parseTarget(rawURL)
	if err != nil {
		return err
	}
	opts = opts.withDefaults()
	if env.Warn == nil {
		env.Warn = func(error) {}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	f := newFetcher(base, opts, env.Warn)
	if err := f.probeSoft404(ctx); err != nil {
		return fmt.Errorf("scan %s: %w", base, err)
	}
	if err := scanLeakFiles(ctx, f, opts.MaxObjectBytes, env); err != nil && !errors.Is(err, errBound) {
		return fmt.Errorf("scan %s: %w", base, err)
	}
	if err := scanGitDir(ctx, f, opts, env); err != nil && !errors.Is(err, errBound) {
		return fmt.Errorf("scan %s: %w", base, err)
	}
	if err := parent.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", base, err) // cancelled by the caller: the scan is incomplete
	}
	return nil
}

// parseTarget checks the URL and returns the directory whose .git/ and leak
// files are looked at; a URL naming the .git directory itself means its parent.
func parseTarget(rawURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, fmt.Errorf("url %q: cannot parse it: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https", rawURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q: no host", rawURL)
	}
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, "/.git")
	return &url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: p + "/"}, nil
}
