package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxResponse bounds how much of an API response is read.
const maxResponse = 1 << 20

// apiError is a non-2xx answer from GitHub or GitLab.
type apiError struct {
	method, url string
	status      int
	message     string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.method, e.url, e.status, http.StatusText(e.status))
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

func isStatus(err error, status int) bool {
	var e *apiError
	return errors.As(err, &e) && e.status == status
}

// callJSON sends body (JSON, when not nil) and decodes a 2xx answer into out
// (when not nil). Any other status is an *apiError carrying the service's message.
func callJSON(ctx context.Context, client *http.Client, method, url string, hdr http.Header, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "keywarden")
	resp, err := sameHost(client).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &apiError{method: method, url: url, status: resp.StatusCode, message: errorMessage(data)}
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode response: %w", method, url, err)
		}
	}
	return nil
}

// errorMessage pulls the human part out of an error body: GitHub's
// {"message":"..."}, GitLab's {"message":...} or {"error":"..."}; otherwise
// the start of the body, on one line.
func errorMessage(data []byte) string {
	var v struct {
		Message json.RawMessage `json:"message"`
		Error   string          `json:"error"`
	}
	if json.Unmarshal(data, &v) == nil {
		var s string
		switch {
		case json.Unmarshal(v.Message, &s) == nil && s != "":
			return oneLine(s)
		case len(v.Message) > 0:
			return oneLine(string(v.Message))
		case v.Error != "":
			return oneLine(v.Error)
		}
	}
	return oneLine(string(data))
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// sameHost returns a copy of client that follows redirects only within the
// request's host: Go strips Authorization on a cross-host redirect but would
// forward GitLab's PRIVATE-TOKEN header to wherever a redirect points.
func sameHost(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
			return fmt.Errorf("refusing redirect to another host (%s)", req.URL.Host)
		}
		return nil
	}
	return &c
}
