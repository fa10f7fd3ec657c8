package cli

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keywarden/keywarden/internal/awstest"
)

// Commands that build broken inputs at run time: real archives, cut short;
// paths keywarden cannot read.

// cmdArchive writes an archive of the script's files: tar, tgz or zip of
// every FILE (named as given), or gz of one; or a zip bomb of N members.
// usage: archive tar|tgz|zip|gz OUT FILE... | archive bomb OUT N
func cmdArchive(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || args[0] == "gz" && len(args) != 3 {
		ts.Fatalf("usage: archive tar|tgz|zip|gz OUT FILE... | archive bomb OUT N")
	}
	var buf bytes.Buffer
	files := args[2:]
	switch args[0] {
	case "tar", "tgz":
		tw := tar.NewWriter(&buf)
		for _, name := range files {
			data := []byte(ts.ReadFile(name))
			ts.Check(tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
			_, err := tw.Write(data)
			ts.Check(err)
		}
		ts.Check(tw.Close())
		if args[0] == "tgz" {
			buf = gzipped(ts, buf.Bytes())
		}
	case "zip":
		zw := zip.NewWriter(&buf)
		for _, name := range files {
			w, err := zw.Create(name)
			ts.Check(err)
			_, err = w.Write([]byte(ts.ReadFile(name)))
			ts.Check(err)
		}
		ts.Check(zw.Close())
	case "gz":
		buf = gzipped(ts, []byte(ts.ReadFile(files[0])))
	case "bomb": // N members of 2 MiB of "A" each, deflated a thousandfold
		n, err := strconv.Atoi(files[0])
		ts.Check(err)
		zw := zip.NewWriter(&buf)
		for i := range n {
			w, err := zw.Create(fmt.Sprintf("m%d.txt", i+1))
			ts.Check(err)
			_, err = w.Write(bytes.Repeat([]byte("A"), 2<<20))
			ts.Check(err)
		}
		ts.Check(zw.Close())
	default:
		ts.Fatalf("archive: unknown kind %q", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), buf.Bytes(), 0o644))
}

func gzipped(ts *testscript.TestScript, data []byte) bytes.Buffer {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	ts.Check(err)
	ts.Check(zw.Close())
	return buf
}

// cmdTruncate cuts FILE to N bytes; -N cuts N bytes off its end.
// usage: truncate FILE N
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	path := ts.MkAbs(args[0])
	st, err := os.Stat(path)
	ts.Check(err)
	if n < 0 {
		n += int(st.Size())
	}
	ts.Check(os.Truncate(path, int64(n)))
}

// cmdUnreadable makes each PATH unreadable (mode 0) and checks that a read
// of it really fails. As root, where permission bits stop no read, every
// later keywarden of the script runs without CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH (setpriv; see dropDACIfAsked): it is root still,
// but reads only what the bits let it.
// usage: unreadable PATH...
func cmdUnreadable(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: unreadable PATH...")
	}
	root := os.Geteuid() == 0
	if _, err := exec.LookPath(awstest.DropDAC[0]); root && err != nil {
		stateOf(ts).t.Skip("root reads past permission bits, and setpriv is not installed to drop CAP_DAC_OVERRIDE")
	}
	for _, p := range args {
		path := ts.MkAbs(p)
		ts.Check(os.Chmod(path, 0))
		check := []string{"sh", "-c", `test -r "$1" || exit 3; cat "$1" >/dev/null 2>&1 || ls "$1" >/dev/null 2>&1 || exit 3`, "sh", path}
		if root {
			check = slices.Concat(awstest.DropDAC, check)
		}
		err := exec.Command(check[0], check[1:]...).Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
			ts.Fatalf("unreadable: %s can still be read (%v)", p, err)
		}
	}
	if root {
		ts.Setenv(awstest.NoDACEnv, "drop")
	}
}

// dropDACIfAsked re-executes this keywarden without CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH when a script made paths unreadable as root.
func dropDACIfAsked() {
	if os.Getenv(awstest.NoDACEnv) != "drop" {
		return
	}
	setpriv, err := exec.LookPath(awstest.DropDAC[0])
	if err != nil {
		return // cmdUnreadable skipped the script
	}
	self, err := exec.LookPath(os.Args[0]) // testscript's keywarden on $PATH: its name picks the command
	if err != nil {
		return
	}
	os.Setenv(awstest.NoDACEnv, "1")
	argv := slices.Concat(awstest.DropDAC, []string{self}, os.Args[1:])
	if err := syscall.Exec(setpriv, argv, os.Environ()); err != nil {
		panic(err)
	}
}
