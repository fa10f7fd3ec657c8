package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awstest"
)

// cmdFakeKey makes a fake key pair at run time (no key-shaped literal is
// committed) and exports it as $ID_<seed> and $SECRET_<seed>.
// usage: fakekey SEED
func cmdFakeKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fakekey SEED")
	}
	fakeKey(ts, args[0])
}

func fakeKey(ts *testscript.TestScript, seed string) (id, sec string) {
	id, sec = awstest.FakeKeyID(seed, 123456789012), awstest.FakeSecret(seed)
	ts.Setenv("ID_"+seed, id)
	ts.Setenv("SECRET_"+seed, sec)
	return id, sec
}

// cmdCredfile writes an ~/.aws/credentials-style file holding a fake key pair
// (fakekey SEED) as its default profile.
// usage: credfile FILE SEED
func cmdCredfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: credfile FILE SEED")
	}
	id, sec := fakeKey(ts, args[1])
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, sec)
	path := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	ts.Check(os.WriteFile(path, []byte(body), 0o600))
}

// cmdExpand replaces $NAME and ${NAME} in files, in place, with the script's
// variables: the way fixtures carry keys made at run time. A name the script
// has not set is an error, not an empty string.
// usage: expand FILE...
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: expand FILE...")
	}
	for _, name := range args {
		var missing []string
		out := os.Expand(ts.ReadFile(name), func(k string) string {
			v := ts.Getenv(k)
			if v == "" {
				missing = append(missing, k)
			}
			return v
		})
		if len(missing) > 0 {
			ts.Fatalf("expand %s: unset: %s", name, strings.Join(missing, ", "))
		}
		ts.Check(os.WriteFile(ts.MkAbs(name), []byte(out), 0o666))
	}
}

// cmdCapture sets VAR to the first group of REGEXP's first match in FILE
// (stdout and stderr name the last command's output). As in stdout and grep,
// ^ and $ match at line breaks.
// usage: capture VAR FILE REGEXP
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: capture VAR FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[2])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile(args[1]))
	if len(m) < 2 {
		ts.Fatalf("capture: no match for %q in %s", args[2], args[1])
	}
	ts.Setenv(args[0], m[1])
}

// cmdMode checks a file's permission bits.
// usage: [!] mode PERM FILE   (PERM in octal: 600)
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode PERM FILE")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	st, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := st.Mode().Perm(); (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %o; want %s%o", args[1], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdNow sets VAR to the time now plus OFFSET (a Go duration, default 0), in
// RFC 3339 UTC: for fixtures that must fall inside a window such as --since.
// usage: now VAR [OFFSET]
func cmdNow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: now VAR [OFFSET]")
	}
	var offset time.Duration
	if len(args) == 2 {
		var err error
		offset, err = time.ParseDuration(args[1])
		ts.Check(err)
	}
	ts.Setenv(args[0], time.Now().UTC().Add(offset).Format(time.RFC3339))
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

// cmdHelpAll runs 'keywarden CMD --help' for every command of keywarden's
// tree, walked from NewRootCmd so that a new command is checked without
// being listed here, and fails naming each whose help does not match REGEXP
// (^ and $ match at line breaks).
// (cobra adds its help and completion commands only when it executes; they
// are not keywarden's and are not walked.)
// usage: helpall REGEXP
func cmdHelpAll(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: helpall REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[0])
	ts.Check(err)
	var bad []string
	n := 0
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		n++
		path := strings.Fields(c.CommandPath())[1:]
		if err := ts.Exec("keywarden", append(path, "--help")...); err != nil {
			bad = append(bad, fmt.Sprintf("%q: %v", c.CommandPath(), err))
		} else if !re.MatchString(ts.ReadFile("stdout")) {
			bad = append(bad, fmt.Sprintf("%q: help does not match %s", c.CommandPath(), args[0]))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(Deps{}))
	if len(bad) > 0 {
		ts.Fatalf("%d of %d commands:\n%s", len(bad), n, strings.Join(bad, "\n"))
	}
	ts.Logf("%d commands checked", n)
}
