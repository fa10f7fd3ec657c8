package awstest

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// NoDACEnv marks a process that runs without CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH: one where permission bits stop root's reads too.
const NoDACEnv = "KEYWARDEN_TEST_NO_DAC"

// DropDAC is the command line prefix that runs a program as this user but
// without the capabilities that let root read past permission bits.
var DropDAC = []string{"setpriv", "--bounding-set", "-dac_override,-dac_read_search"}

// PermissionsEnforced reports whether permission bits stop this process's
// reads, so that a test can make a file unreadable with chmod. As root they
// do not: the test is then run again, whole, in a child process without
// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv), whose outcome becomes
// this test's, and PermissionsEnforced reports false: the caller returns.
// Where setpriv is missing the test is skipped, saying why.
func PermissionsEnforced(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 || os.Getenv(NoDACEnv) == "1" {
		return true
	}
	if _, err := exec.LookPath(DropDAC[0]); err != nil {
		t.Skip("root reads past permission bits, and setpriv is not installed to drop CAP_DAC_OVERRIDE")
	}
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	args := slices.Concat(DropDAC[1:], []string{os.Args[0], "-test.run", strings.Join(parts, "/"), "-test.count=1", "-test.v"})
	cmd := exec.Command(DropDAC[0], args...)
	cmd.Env = append(os.Environ(), NoDACEnv+"=1")
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("run again without CAP_DAC_OVERRIDE: %v\n%s", err, out)
	case bytes.Contains(out, []byte("--- SKIP: "+t.Name())):
		t.Skipf("skipped without CAP_DAC_OVERRIDE:\n%s", out)
	case !bytes.Contains(out, []byte("--- PASS: "+t.Name())):
		t.Fatalf("run again without CAP_DAC_OVERRIDE, the test did not pass:\n%s", out)
	}
	t.Logf("passed in a child process without CAP_DAC_OVERRIDE")
	return false
}

// Unreadable makes each path unreadable (mode 0) for the rest of the test,
// checking that a read really fails; call PermissionsEnforced first.
func Unreadable(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(p, st.Mode().Perm()) })
		if f, err := os.Open(p); err == nil {
			f.Close()
			t.Fatalf("%s is still readable after chmod 0: call PermissionsEnforced first", p)
		}
	}
}
