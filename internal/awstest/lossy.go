package awstest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Lossy is a proxy to moto that loses the answer to the first request for
// Op, as a loaded machine does: with Forward, moto does the call and the
// client never hears of it; without, the request never reaches moto. The
// SDK then retries: how a test shows a create that IAM answers "exists"
// after doing it is taken for what it is.
type Lossy struct {
	Op      string // the query Action, the X-Amz-Target's last part, or "METHOD /path"
	Forward bool
	mu      sync.Mutex
	lost    int
}

// Start serves the proxy until t ends; the config points the SDK at it.
func (l *Lossy) Start(t testing.TB, s *MotoServer) aws.Config {
	t.Helper()
	target, _ := url.Parse(s.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		target := r.Header.Get("X-Amz-Target")
		op := target[strings.LastIndex(target, ".")+1:]
		l.mu.Lock()
		lose := (form.Get("Action") == l.Op || op == l.Op || r.Method+" "+r.URL.Path == l.Op) && l.lost == 0
		if lose {
			l.lost++
		}
		l.mu.Unlock()
		if !lose {
			proxy.ServeHTTP(w, r)
			return
		}
		if l.Forward {
			proxy.ServeHTTP(httptest.NewRecorder(), r)
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(Region), config.WithBaseEndpoint(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Check fails t unless exactly one answer was lost.
func (l *Lossy) Check(t testing.TB) {
	t.Helper()
	if l.lost != 1 {
		t.Fatalf("the proxy lost %d answers to %s, want 1", l.lost, l.Op)
	}
}
