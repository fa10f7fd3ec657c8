package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/detect"
)

// Webhook delivery limits. A sink must neither hang the pipeline on a slow
// endpoint nor drop alerts on a brief outage.
const (
	httpTimeout    = 15 * time.Second // one attempt
	httpAttempts   = 4                // then Send fails and the caller keeps the alerts
	backoffBase    = time.Second      // doubled after each failed attempt
	backoffMax     = 30 * time.Second
	retryAfterMax  = 5 * time.Minute // a hostile Retry-After must not park the pipeline for days
	respBodyLimit  = 64 << 10        // read (and drop) at most this much of a response
	errSnippetSize = 200
)

// poster POSTs JSON to one endpoint with retries. The URL is kept out of
// every error: Slack's and many webhooks' URLs carry their credential in
// the path.
type poster struct {
	url     string
	name    string // scheme://host, safe to print
	header  http.Header
	client  *http.Client
	sleep   func(context.Context, time.Duration) error
	maxTrys int
}

func newPoster(raw string, header http.Header, env SinkEnv) (*poster, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: want an http(s) URL with a host", ErrBadSink)
	}
	name := u.Scheme + "://" + u.Host
	client := *env.HTTP // a copy: the redirect policy is ours alone
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
			return fmt.Errorf("refusing redirect from %s to another host or scheme", name)
		}
		return nil
	}
	return &poster{url: raw, name: name, header: header, client: &client, sleep: env.Sleep, maxTrys: httpAttempts}, nil
}

// post sends body, retrying network errors, 5xx and 429 with exponential
// backoff (Retry-After when the server gives one). Other statuses fail at
// once: retrying a 400 or 404 cannot succeed.
func (p *poster) post(ctx context.Context, body []byte) error {
	delay := backoffBase
	var last error
	for attempt := 1; ; attempt++ {
		wait, err := p.once(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		var perm permanentError
		if errors.As(err, &perm) || ctx.Err() != nil {
			return err
		}
		if attempt >= p.maxTrys {
			return fmt.Errorf("post to %s: giving up after %d attempts: %w", p.name, attempt, last)
		}
		if wait <= 0 {
			wait = delay
			delay = min(delay*2, backoffMax)
		}
		if err := p.sleep(ctx, min(wait, retryAfterMax)); err != nil {
			return fmt.Errorf("post to %s: %w (last error: %w)", p.name, err, last)
		}
	}
}

type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// once makes one attempt; it returns how long the server asked to wait.
func (p *poster) once(ctx context.Context, body []byte) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return 0, permanentError{fmt.Errorf("post to %s: build request", p.name)}
	}
	for k, vs := range p.header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "keywarden-watch")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post to %s: %w", p.name, stripURL(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, respBodyLimit))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			fmt.Errorf("post to %s: %s%s", p.name, resp.Status, bodySnippet(snippet))
	}
	return 0, permanentError{fmt.Errorf("post to %s: %s%s", p.name, resp.Status, bodySnippet(snippet))}
}

// stripURL drops the URL net/http puts in its errors: it may hold the
// webhook's credential.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func bodySnippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return ": " + field(truncate(s, errSnippetSize))
}

// retryAfter reads Retry-After: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, retryAfterMax)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), retryAfterMax)
	}
	return 0
}

// parseHeaders reads KEYWARDEN_WEBHOOK_HEADERS: "K: V; K2: V2". Values may
// be credentials, so errors name only the header.
func parseHeaders(s string) (http.Header, error) {
	h := http.Header{}
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") {
			return nil, fmt.Errorf("%w: KEYWARDEN_WEBHOOK_HEADERS: want \"Name: value; Name2: value2\" (entry %d)", ErrBadSink, i+1)
		}
		h.Add(k, v)
	}
	return h, nil
}

func validHeaderName(k string) bool {
	for _, r := range k {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", r) {
			return false
		}
	}
	return true
}

// webhookSink POSTs the batch as one JSON array of alerts (docs/formats.md): one
// request, so Send is all-or-nothing on the wire too.
type webhookSink struct{ p *poster }

func newWebhookSink(raw string, env SinkEnv) (Sink, error) {
	h, err := parseHeaders(env.Getenv("KEYWARDEN_WEBHOOK_HEADERS"))
	if err != nil {
		return nil, err
	}
	p, err := newPoster(raw, h, env)
	if err != nil {
		return nil, fmt.Errorf("webhook sink: %w", err)
	}
	return &webhookSink{p: p}, nil
}

func (s *webhookSink) Send(ctx context.Context, alerts []detect.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	return s.p.post(ctx, body)
}

func (s *webhookSink) Close() error { return nil }
