package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestMain lets testscript run the keywarden binary as this test binary.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" { // a test runs this binary as keywarden, to kill it
		os.Exit(Main(os.Args[1:], Deps{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	testscript.Main(motoStopper{m}, map[string]func(){
		"keywarden": func() {
			os.Exit(Main(os.Args[1:], Deps{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
		},
	})
}

// motoStopper stops the moto servers the tests started once they have run.
type motoStopper struct{ m *testing.M }

func (s motoStopper) Run() int { return awstest.RunAndStop(s.m) }

// TestScripts runs the end-to-end CLI scripts in testdata/script over real
// files, real git repositories and (where a script needs it) moto.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("GIT_AUTHOR_NAME", "Alice Example")
			env.Setenv("GIT_AUTHOR_EMAIL", "alice@example.invalid")
			env.Setenv("GIT_COMMITTER_NAME", "Alice Example")
			env.Setenv("GIT_COMMITTER_EMAIL", "alice@example.invalid")
			env.Setenv("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
			env.Setenv("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z")
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"credfile": cmdCredfile,
			"exits":    cmdExits,
		},
	})
}

// cmdCredfile writes an ~/.aws/credentials-style file holding a fake key pair
// built at run time, and exports its parts as $ID_<seed> and $SECRET_<seed>.
// usage: credfile FILE SEED
func cmdCredfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: credfile FILE SEED")
	}
	id, sec := awstest.FakeKeyID(args[1], 123456789012), awstest.FakeSecret(args[1])
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, sec)
	path := ts.MkAbs(args[0])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		ts.Fatalf("credfile: %v", err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		ts.Fatalf("credfile: %v", err)
	}
	ts.Setenv("ID_"+args[1], id)
	ts.Setenv("SECRET_"+args[1], sec)
}

// cmdExits runs a program and checks its exact exit status (testscript's
// "! exec" only tells zero from non-zero; keywarden's 1 and 2 mean different things).
// usage: exits N PROG ARGS...
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad status %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
