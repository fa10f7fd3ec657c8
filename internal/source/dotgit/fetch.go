package dotgit

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// errNotFound means the site does not serve the path (a 404, any non-200, or
// the same page it serves for a path that cannot exist).
var errNotFound = errors.New("not found")

// errBound means a bound of Options was reached; the warning was already sent.
var errBound = errors.New("bound reached")

// Why a redirect was not followed.
var (
	errRedirectElsewhere = errors.New("refused redirect to another host")
	errRedirectLoop      = errors.New("redirect loop")
	errNoAnswer          = errors.New("no answer")
)

// maxRedirects bounds the redirects followed for one request.
const maxRedirects = 5

// fetcher makes every request to the site and enforces the request, byte and
// time bounds. It is safe for concurrent use.
type fetcher struct {
	base   *url.URL // scheme://host[:port]/prefix/ (always ends in "/")
	client *http.Client
	opts   Options
	warn   func(error)

	requests atomic.Int64
	bytes    atomic.Int64

	// probed is set once the site has answered a request: from then on a
	// path that loops or stalls is warned about, not the end of the scan.
	probed atomic.Bool

	mu       sync.Mutex
	warned   map[string]bool
	soft404s map[[32]byte]bool // digests of bodies served for paths that cannot exist
}

func newFetcher(base *url.URL, opts Options, warn func(error)) *fetcher {
	f := &fetcher{base: base, opts: opts, warn: warn, warned: map[string]bool{}, soft404s: map[[32]byte]bool{}}
	f.client = &http.Client{
		Transport: opts.Transport,
		// A .git/ on one host must never make us fetch from another: a hostile
		// site could point us at internal addresses.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("%w: stopped after %d redirects", errRedirectLoop, len(via))
			}
			if !sameHost(req.URL, base) {
				return fmt.Errorf("%w %s", errRedirectElsewhere, req.URL.Host)
			}
			return nil
		},
	}
	return f
}

// sameHost reports whether a redirect to next stays on the site at base: the
// same scheme, host and port, or the same host name upgraded from http to https.
func sameHost(next, base *url.URL) bool {
	if strings.EqualFold(next.Scheme, base.Scheme) && strings.EqualFold(next.Host, base.Host) {
		return true
	}
	return base.Scheme == "http" && next.Scheme == "https" && base.Port() == "" && next.Port() == "" &&
		strings.EqualFold(next.Hostname(), base.Hostname())
}

// urlOf returns the absolute URL of a path relative to the base.
func (f *fetcher) urlOf(rel string) string {
	return f.base.String() + strings.TrimPrefix(rel, "/")
}

// warnOnce sends err to the warning callback the first time key is seen, so
// that a bound reached by a thousand requests is reported once.
func (f *fetcher) warnOnce(key string, err error) {
	f.mu.Lock()
	seen := f.warned[key]
	f.warned[key] = true
	f.mu.Unlock()
	if !seen && f.warn != nil {
		f.warn(err)
	}
}

// probeSoft404 fetches a few paths that cannot exist and remembers what the
// site serves for them, so that a site answering 200 to everything is not taken
// for one exposing its files. A transport failure here means the site is
// unreachable and is returned.
func (f *fetcher) probeSoft404(ctx context.Context) error {
	for _, p := range []string{"", ".git/", ".env."} {
		path := p + randomName()
		body, err := f.get(ctx, path, 1<<20)
		if errors.Is(err, errNotFound) || errors.Is(err, errBound) {
			f.probed.Store(true)
			continue
		}
		if err != nil {
			return err
		}
		f.probed.Store(true)
		f.mu.Lock()
		f.soft404s[sha256.Sum256(normalizeSoft404(body, path))] = true
		f.mu.Unlock()
	}
	return nil
}

// normalizeSoft404 removes the requested name from a page, since error pages
// often echo the path back.
func normalizeSoft404(body []byte, path string) []byte {
	name := path[strings.LastIndex(path, "/")+1:]
	return bytes.ReplaceAll(body, []byte(name), nil)
}

func randomName() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "kw-" + hex.EncodeToString(b[:])
}

// get fetches a path relative to the base and returns its body, read up to
// limit bytes (a longer body is an error: it is cut off, not half-used).
func (f *fetcher) get(ctx context.Context, rel string, limit int64) ([]byte, error) {
	if err := f.takeRequest(ctx); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, f.opts.RequestTimeout)
	defer cancel()
	u := f.urlOf(rel)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", u, err)
	}
	req.Header.Set("User-Agent", "keywarden")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.failed(ctx, rel, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errNotFound
	}
	body, err := f.readBody(ctx, resp.Body, u, limit)
	if err != nil {
		return nil, err
	}
	if f.isSoft404(body, rel) {
		return nil, errNotFound
	}
	return body, nil
}

// failed says why a request got no response. A redirect elsewhere, and once
// the site has answered, a path that loops or stalls, is one warning per kind
// and the path counts as not served; anything else (the site unreachable, or
// looping or stalling from the first request) ends the scan.
func (f *fetcher) failed(ctx context.Context, rel string, err error) error {
	if ctx.Err() != nil {
		return f.timeBound(ctx)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // its text repeats the URL
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w within the per-request bound of %s", errNoAnswer, f.opts.RequestTimeout)
	}
	kind := ""
	switch {
	case errors.Is(err, errRedirectElsewhere):
		kind = "redirect"
	case errors.Is(err, errRedirectLoop) && f.probed.Load():
		kind = "loop"
	case errors.Is(err, errNoAnswer) && f.probed.Load():
		kind = "slow"
	default:
		// The caller names the site: the path is enough.
		return fmt.Errorf("get /%s: %w", strings.TrimPrefix(rel, "/"), err)
	}
	f.warnOnce(kind, fmt.Errorf("get %s: %w (and any other path that does so)", f.urlOf(rel), err))
	return errNotFound
}

func (f *fetcher) isSoft404(body []byte, rel string) bool {
	sum := sha256.Sum256(normalizeSoft404(body, rel))
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.soft404s[sum]
}

// takeRequest counts one request against the request bound.
func (f *fetcher) takeRequest(ctx context.Context) error {
	if ctx.Err() != nil {
		return f.timeBound(ctx)
	}
	if f.bytes.Load() > f.opts.MaxBytes {
		return errBound
	}
	if f.requests.Add(1) > int64(f.opts.MaxRequests) {
		f.warnOnce("requests", fmt.Errorf("%s: request bound of %d reached; scanning what was fetched", f.base, f.opts.MaxRequests))
		return errBound
	}
	return nil
}

func (f *fetcher) timeBound(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		f.warnOnce("time", fmt.Errorf("%s: time bound of %s reached; scanning what was fetched", f.base, f.opts.Timeout))
		return errBound
	}
	return ctx.Err()
}

// readBody reads at most limit bytes of body, counting them against the total
// byte bound. A body past either bound, or one that drips slower than the
// request timeout allows, is abandoned with a warning.
func (f *fetcher) readBody(ctx context.Context, body io.Reader, u string, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	for {
		n, err := body.Read(chunk)
		if n > 0 {
			if f.bytes.Add(int64(n)) > f.opts.MaxBytes {
				f.warnOnce("bytes", fmt.Errorf("%s: byte bound of %d bytes reached; scanning what was fetched", f.base, f.opts.MaxBytes))
				return nil, errBound
			}
			if int64(buf.Len()+n) > limit {
				f.warn(fmt.Errorf("get %s: body larger than the per-object bound of %d bytes; skipped", u, limit))
				return nil, errNotFound
			}
			buf.Write(chunk[:n])
		}
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, f.timeBound(ctx)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("body not complete within the per-request bound of %s", f.opts.RequestTimeout)
			}
			f.warn(fmt.Errorf("get %s: %w", u, err))
			return nil, errNotFound
		}
	}
}
