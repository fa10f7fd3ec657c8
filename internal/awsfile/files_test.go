package awsfile

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestLoadMissingFileIsEmpty(t *testing.T) {
	f, mode, err := Load(filepath.Join(t.TempDir(), "nope"), Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if mode != 0o600 || len(f.Bytes()) != 0 || len(f.Profiles()) != 0 {
		t.Errorf("Load(missing) = %q, %v; want empty, 0600", f.Bytes(), mode)
	}
}

func TestSaveKeepsModeAndFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real-credentials")
	link := filepath.Join(dir, "credentials")
	if err := os.WriteFile(real, []byte("[p]\nk = old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(real, 0o640); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	f, mode, err := Load(link, Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if mode != 0o640 {
		t.Fatalf("Load mode = %v, want 0640", mode)
	}
	if err := f.Set("p", "k", "new"); err != nil {
		t.Fatal(err)
	}
	if err := Save(link, f, mode); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v %v", st, err)
	}
	got, _ := os.ReadFile(real)
	if string(got) != "[p]\nk = new\n" {
		t.Errorf("target = %q", got)
	}
	if st, _ := os.Stat(real); st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", st.Mode().Perm())
	}
}

func TestSaveCreatesPrivateFileAndDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "home", ".aws", "credentials")
	f, mode, err := Load(path, Credentials)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("default", "aws_access_key_id", "ID"); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, f, mode); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", p, st.Mode().Perm(), want)
		}
	}
}

func TestLoadRejectsHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(path, make([]byte, maxSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path, Config); err == nil {
		t.Fatal("Load of an oversized file succeeded")
	}
}

func TestPathsHonourEnvironment(t *testing.T) {
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/x/creds")
	t.Setenv("AWS_CONFIG_FILE", "")
	t.Setenv("HOME", "/home/u")
	if p, _ := CredentialsPath(); p != "/x/creds" {
		t.Errorf("CredentialsPath = %q", p)
	}
	if p, _ := ConfigPath(); p != filepath.Join("/home/u", ".aws", "config") {
		t.Errorf("ConfigPath = %q", p)
	}
}

// TestLockSerializesGoroutines: each goroutine does an unsynchronised
// read-modify-write of a counter file under the lock; none is lost.
func TestLockSerializesGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credentials")
	counter := path + ".count"
	if err := os.WriteFile(counter, []byte("0"), 0o600); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for r := 0; r < rounds; r++ {
				errs <- increment(path, counter)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(counter)
	if string(got) != strconv.Itoa(workers*rounds) {
		t.Errorf("counter = %s, want %d", got, workers*rounds)
	}
}

func increment(path, counter string) error {
	unlock, err := Lock(context.Background(), path)
	if err != nil {
		return err
	}
	defer unlock()
	b, err := os.ReadFile(counter)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(string(b))
	time.Sleep(time.Millisecond) // widen the window a lost update needs
	return os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o600)
}

// TestLockExcludesOtherProcess holds the lock in a child process and checks
// that this process cannot take it until the child lets go.
func TestLockExcludesOtherProcess(t *testing.T) {
	if path := os.Getenv("AWSFILE_LOCK_HELPER"); path != "" {
		lockHelper(path)
		return
	}
	path := filepath.Join(t.TempDir(), "credentials")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockExcludesOtherProcess$")
	cmd.Env = append(os.Environ(), "AWSFILE_LOCK_HELPER="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		stdin.Close()
		t.Fatalf("helper said %q, %v", line, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while another process holds it: %v, want deadline exceeded", err)
	}
	stdin.Close() // the helper unlocks and exits
	unlock, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

func lockHelper(path string) {
	unlock, err := Lock(context.Background(), path)
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	bufio.NewReader(os.Stdin).ReadString('\n') // wait for the parent to close stdin
	unlock()
	os.Exit(0)
}
