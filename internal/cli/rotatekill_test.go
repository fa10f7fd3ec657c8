package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
)

// childEnv makes the test binary run keywarden's Main (see TestMain).
const childEnv = "KEYWARDEN_CLI_CHILD"

// killProxy stands between keywarden and moto. It SIGKILLs the keywarden
// process at the n-th AWS request, before forwarding it or after moto
// answered it (the change is made, the answer lost). And it refuses the
// first `refusals` STS calls signed by each newly created key, as AWS does
// while a new key propagates.
type killProxy struct {
	mu       sync.Mutex
	n        int  // kill at this request; 0: never
	after    bool // kill after moto answered
	count    int
	child    *exec.Cmd
	refusals int
	fresh    map[string]int // new key id -> STS calls refused so far
}

var (
	credentialRe = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)
	newKeyRe     = regexp.MustCompile(`<AccessKeyId>([A-Z0-9]+)</AccessKeyId>`)
)

func newKillProxy(t *testing.T, moto *awstest.MotoServer) (*killProxy, *httptest.Server) {
	target, err := url.Parse(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	kp := &killProxy{fresh: map[string]int{}, refusals: 1}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = kp.observe
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if kp.refuse(r, body) {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>`+
				`<Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>`)
			return
		}
		if kp.hit(false) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return kp, srv
}

// hit counts a request and kills the child when it is the n-th.
func (kp *killProxy) hit(after bool) bool {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if !after {
		kp.count++
	}
	if kp.n == 0 || kp.count != kp.n || kp.after != after || kp.child == nil {
		return false
	}
	kp.child.Process.Kill() // runChild's Wait reaps it
	kp.child = nil
	return true
}

// refuse says whether an STS call is signed by a key too new to work yet.
func (kp *killProxy) refuse(r *http.Request, body []byte) bool {
	m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil || !bytes.Contains(body, []byte("Action=GetCallerIdentity")) {
		return false
	}
	kp.mu.Lock()
	defer kp.mu.Unlock()
	n, ok := kp.fresh[m[1]]
	if !ok || n >= kp.refusals {
		return false
	}
	kp.fresh[m[1]] = n + 1
	return true
}

// refused counts the STS calls refused as too early.
func (kp *killProxy) refused() int {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	n := 0
	for _, c := range kp.fresh {
		n += c
	}
	return n
}

// observe notes new keys and kills after the answer when due.
func (kp *killProxy) observe(resp *http.Response) error {
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if m := newKeyRe.FindSubmatch(body); m != nil && bytes.Contains(body, []byte("CreateAccessKeyResult")) {
		kp.mu.Lock()
		kp.fresh[string(m[1])] = 0
		kp.mu.Unlock()
	}
	if kp.hit(true) {
		return io.ErrUnexpectedEOF // the child is gone; the answer goes nowhere
	}
	return nil
}

// runChild runs `keywarden ARGS` as a process through the proxy, which may
// kill it; it returns the output and whether it was killed.
func (kp *killProxy) runChild(t *testing.T, proxyURL string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "AWS_ENDPOINT_URL="+proxyURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	kp.mu.Lock()
	kp.count = 0
	if err := cmd.Start(); err != nil {
		kp.mu.Unlock()
		t.Fatal(err)
	}
	kp.child = cmd
	kp.mu.Unlock()
	err := cmd.Wait()
	kp.mu.Lock()
	defer kp.mu.Unlock()
	killed := kp.child == nil
	kp.child = nil
	if err != nil && !killed && !strings.Contains(err.Error(), "wait") {
		t.Logf("child exited: %v\n%s", err, out.String())
	}
	return out.String(), killed
}

// TestRotateKilledProcessResumes SIGKILLs `keywarden rotate` at every AWS
// request in turn, before and after AWS acts on it, with STS refusing each
// new key twice first; a second run must always end with one active key,
// held by both profiles, and no open rotation.
func TestRotateKilledProcessResumes(t *testing.T) {
	for _, after := range []bool{false, true} {
		for n := 1; ; n++ {
			e := newRotateEnv(t)
			kp, proxy := newKillProxy(t, e.srv)
			kp.n, kp.after = n, after
			out, killed := kp.runChild(t, proxy.URL, "rotate", "--grace", "0", "--yes")
			if !killed {
				if n == 1 {
					t.Fatalf("the child made no AWS request:\n%s", out)
				}
				if !strings.Contains(out, "rotated profile default") {
					t.Fatalf("after=%v n=%d: the unkilled run did not rotate:\n%s", after, n, out)
				}
				if refused := kp.refused(); refused == 0 {
					t.Fatalf("STS never refused a new key: the propagation delay was not exercised")
				}
				break
			}
			if len(e.keys()) > 2 {
				t.Fatalf("after=%v kill at request %d: three keys", after, n)
			}
			kp.n = 0
			out, _ = kp.runChild(t, proxy.URL, "rotate", "--grace", "0", "--yes")
			body := e.read()
			id, sec := newKeyOf(t, body)
			keys := e.keys()
			if len(keys) != 1 || !keys[id] || body != e.file(id, sec) {
				t.Fatalf("after=%v kill at request %d: want one active key in both profiles; keys %v, file key %s\nsecond run:\n%s",
					after, n, keys, id, out)
			}
			status, _ := kp.runChild(t, proxy.URL, "rotate", "status", "--format", "json")
			var open []any
			if err := json.Unmarshal([]byte(status), &open); err != nil || len(open) != 0 {
				t.Fatalf("after=%v kill at request %d: open rotations left: %s", after, n, status)
			}
		}
	}
}

// TestRotateConcurrentRunsMakeOneRotation starts two rotations of one
// profile at once: the lock makes one wait, and it finds the key rotated.
func TestRotateConcurrentRunsMakeOneRotation(t *testing.T) {
	e := newRotateEnv(t)
	kp, proxy := newKillProxy(t, e.srv)
	kp.refusals = 0
	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "rotate", "--grace", "0", "--yes")
			cmd.Env = append(os.Environ(), childEnv+"=1", "AWS_ENDPOINT_URL="+proxy.URL)
			b, _ := cmd.CombinedOutput()
			outs[i] = string(b)
		}()
	}
	wg.Wait()
	both := outs[0] + outs[1]
	if strings.Count(both, "created key") != 1 || !strings.Contains(both, "already rotated") {
		t.Errorf("want one rotation and one run finding it done:\n--- 1 ---\n%s\n--- 2 ---\n%s", outs[0], outs[1])
	}
	id, sec := newKeyOf(t, e.read())
	if keys := e.keys(); len(keys) != 1 || !keys[id] || e.read() != e.file(id, sec) {
		t.Errorf("want one active key in the file, got %v", keys)
	}
}
