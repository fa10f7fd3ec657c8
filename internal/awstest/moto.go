package awstest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MotoServer is a moto_server process serving the AWS APIs on a loopback port.
// One plain server and one with auth enforcement are started at most once per
// test binary; awstest.Main stops them at exit.
type MotoServer struct {
	URL     string // http://127.0.0.1:PORT, for AWS_ENDPOINT_URL
	LogPath string // the server's output, kept for failures
	Auth    bool   // requests must be signed with a key that exists in moto

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

type lazyServer struct {
	once sync.Once
	srv  *MotoServer
	err  error
	env  []string // added to the server's environment
}

var (
	plainServer lazyServer
	authServer  lazyServer
	// managedServer serves AWS managed policies (AdministratorAccess,
	// ReadOnlyAccess, ...). It is a server of its own because loading them
	// adds a fraction of a second to the first IAM call after every reset.
	managedServer = lazyServer{env: []string{"MOTO_IAM_LOAD_MANAGED_POLICIES=true"}}
)

// Moto returns the shared moto_server, with its state reset and the
// environment (AWS_ENDPOINT_URL, region, dummy credentials, empty config
// files) pointing the SDK at it for the rest of the test. Tests that use it
// must not run in parallel: they share the server's state.
func Moto(t testing.TB) *MotoServer {
	t.Helper()
	return use(t, &plainServer, false)
}

// MotoWithAuth is Moto for a second server that enforces authentication:
// only keys created in it (see CreateUserKey) are accepted, and unknown keys
// or wrong secrets get the errors AWS returns.
func MotoWithAuth(t testing.TB) *MotoServer {
	t.Helper()
	return use(t, &authServer, true)
}

// MotoWithManagedPolicies is Moto for a third server that knows AWS's
// managed policies, so they can be attached and read (GetPolicy,
// GetPolicyVersion) as in AWS.
func MotoWithManagedPolicies(t testing.TB) *MotoServer {
	t.Helper()
	return use(t, &managedServer, false)
}

func use(t testing.TB, l *lazyServer, auth bool) *MotoServer {
	t.Helper()
	path, err := exec.LookPath("moto_server")
	if err != nil {
		SkipOrFail(t, "moto_server not found on PATH (pip install 'moto[server]')")
	}
	l.once.Do(func() { l.srv, l.err = startMoto(path, auth, l.env) })
	if l.err != nil {
		t.Fatalf("start moto_server: %v", l.err)
	}
	s := l.srv
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("moto_server log: %s", s.LogPath)
		}
	})
	s.Reset(t)
	s.SetEnv(t)
	return s
}

// Main runs the tests and stops the moto servers they started. Call it from
// TestMain: func TestMain(m *testing.M) { awstest.Main(m) }.
func Main(m *testing.M) {
	os.Exit(RunAndStop(m))
}

// RunAndStop runs the tests and stops the moto servers they started; for a
// TestMain that must hand m to something else (testscript.Main). A server's
// log is removed when every test passed, and kept, its path printed, when
// one failed.
func RunAndStop(m interface{ Run() int }) int {
	code := m.Run()
	for _, l := range []*lazyServer{&plainServer, &authServer, &managedServer} {
		if l.srv != nil {
			l.srv.shutdown(code != 0, os.Stderr)
		}
	}
	return code
}

// shutdown stops the server, then removes its log, or with failed keeps it
// and says where it is on w.
func (s *MotoServer) shutdown(failed bool, w io.Writer) {
	s.stop()
	if failed {
		fmt.Fprintf(w, "moto_server log kept: %s\n", s.LogPath)
		return
	}
	os.Remove(s.LogPath)
}

// startMoto starts a server on a free port and waits until it answers. A
// port taken between choosing and binding it is retried on another; the
// logs of the attempts that failed go once one succeeds.
func startMoto(path string, auth bool, env []string) (*MotoServer, error) {
	var err error
	var failedLogs []string
	for range 3 {
		var s *MotoServer
		if s, err = startOnce(path, auth, env); err == nil {
			for _, p := range failedLogs {
				os.Remove(p)
			}
			return s, nil
		}
		var se *startError
		if errors.As(err, &se) {
			failedLogs = append(failedLogs, se.log)
		}
	}
	return nil, err
}

// startError is a server that did not come up; its log is kept for the
// failure message.
type startError struct {
	err error
	log string
}

func (e *startError) Error() string { return fmt.Sprintf("%v; log %s:\n%s", e.err, e.log, tail(e.log)) }
func (e *startError) Unwrap() error { return e.err }

func startOnce(path string, auth bool, env []string) (*MotoServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.CreateTemp("", "keywarden-moto-*.log")
	if err != nil {
		return nil, fmt.Errorf("create moto log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(motoEnv(auth), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, &startError{fmt.Errorf("run %s: %w", path, err), logf.Name()}
	}
	s := &MotoServer{URL: fmt.Sprintf("http://127.0.0.1:%d", port), LogPath: logf.Name(), Auth: auth, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	if err := s.waitReady(60 * time.Second); err != nil {
		s.stop()
		return nil, &startError{err, s.LogPath}
	}
	return s, nil
}

// motoEnv is the test's environment without the developer's AWS settings,
// with moto's auth switch set: INITIAL_NO_AUTH_ACTION_COUNT is the number of
// requests moto serves before it starts checking signatures and policies.
func motoEnv(auth bool) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "INITIAL_NO_AUTH_ACTION_COUNT=") {
			env = append(env, kv)
		}
	}
	if auth {
		env = append(env, "INITIAL_NO_AUTH_ACTION_COUNT=0")
	}
	return env
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *MotoServer) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errors.New("moto_server exited during start")
		default:
		}
		if err := s.post(client, "/moto-api/reset", ""); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("moto_server not ready after %s", limit)
}

// post sends a moto control request. Bodies are text/plain: moto reads the
// raw body, which a form content type would hide from it.
func (s *MotoServer) post(client *http.Client, path, body string) error {
	resp, err := client.Post(s.URL+path, "text/plain", strings.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// Reset drops every resource in the server (moto's reset API) and in the
// Access Analyzer stand-in and, on the auth server, turns enforcement back
// on.
func (s *MotoServer) Reset(t testing.TB) {
	t.Helper()
	analyzerServer.reset()
	client := &http.Client{Timeout: 30 * time.Second}
	if err := s.post(client, "/moto-api/reset", ""); err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	if s.Auth {
		s.setAuth(t, true)
	}
}

// setAuth switches enforcement on or off on the auth server.
func (s *MotoServer) setAuth(t testing.TB, on bool) {
	t.Helper()
	count := "inf"
	if on {
		count = "0"
	}
	if err := s.post(&http.Client{Timeout: 30 * time.Second}, "/moto-api/reset-auth", count); err != nil {
		t.Fatalf("switch moto auth: %v", err)
	}
}

// stop ends the process group and waits for it.
func (s *MotoServer) stop() {
	terminate(s.cmd, false)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		terminate(s.cmd, true)
		<-s.done
	}
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b[max(0, len(b)-4000):])
}
