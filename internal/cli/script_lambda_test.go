package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// fakeRuntime is AWS Lambda's runtime API as a function's process sees it
// (moto does not serve it): each GET .../invocation/next hands out the next
// queued payload, or waits; what the function answers is recorded.
type fakeRuntime struct {
	mu      sync.Mutex
	queue   []string      // payloads not handed out yet
	served  int           // payloads handed out
	answers []string      // "response|error REQUEST-ID BODY", in arrival order
	done    chan struct{} // closed when the script ends
}

const runtimePrefix = "/2018-06-01/runtime/"

func (f *fakeRuntime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, runtimePrefix)
	switch {
	case r.Method == http.MethodGet && rest == "invocation/next":
		f.next(w, r)
	case r.Method == http.MethodPost && (strings.HasSuffix(rest, "/response") || strings.HasSuffix(rest, "/error") || rest == "init/error"):
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		parts := strings.Split(rest, "/") // invocation/ID/response, invocation/ID/error, init/error
		f.mu.Lock()
		f.answers = append(f.answers, fmt.Sprintf("%s %s %s", parts[len(parts)-1], parts[len(parts)-2], strings.TrimSpace(string(body))))
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// next hands out the next payload as the runtime API does: the body is the
// payload, the headers its request id, deadline and function.
func (f *fakeRuntime) next(w http.ResponseWriter, r *http.Request) {
	for {
		f.mu.Lock()
		if len(f.queue) > 0 {
			payload := f.queue[0]
			f.queue = f.queue[1:]
			f.served++
			id := "req-" + strconv.Itoa(f.served)
			f.mu.Unlock()
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:keywarden")
			h.Set("Content-Type", "application/json")
			io.WriteString(w, payload)
			return
		}
		f.mu.Unlock()
		select {
		case <-f.done:
			http.Error(w, "the script ended", http.StatusGone)
			return
		case <-r.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// cmdLambdaRuntime serves a fake Lambda runtime API for the rest of the
// script, with one invocation per FILE (its payload), and points
// AWS_LAMBDA_RUNTIME_API at it: keywarden started with no arguments then
// serves them as the function does in AWS.
// usage: lambdaruntime FILE...
func cmdLambdaRuntime(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: lambdaruntime FILE...")
	}
	f := &fakeRuntime{done: make(chan struct{})}
	for _, name := range args {
		f.queue = append(f.queue, ts.ReadFile(name))
	}
	srv := httptest.NewServer(f)
	ts.Defer(func() { close(f.done); srv.Close() })
	stateOf(ts).runtime = f
	ts.Setenv("AWS_LAMBDA_RUNTIME_API", strings.TrimPrefix(srv.URL, "http://"))
}

// cmdLambdaWait waits (up to a minute) until the function answered N
// invocations, and prints the answers, one a line: "response ID BODY" or
// "error ID BODY".
// usage: lambdawait N
func cmdLambdaWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: lambdawait N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	f := stateOf(ts).runtime
	if f == nil {
		ts.Fatalf("run lambdaruntime first")
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		f.mu.Lock()
		answers := append([]string(nil), f.answers...)
		f.mu.Unlock()
		if len(answers) >= n {
			fmt.Fprint(ts.Stdout(), strings.Join(answers, "\n")+"\n")
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("lambdawait: %d answers after a minute, want %d: %q", len(answers), n, answers)
		}
	}
}
