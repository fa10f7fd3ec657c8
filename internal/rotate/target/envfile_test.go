package target_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targettest"
)

func TestEnvFileUpdatesInPlaceAndRestores(t *testing.T) {
	old, c := targettest.Creds("old"), targettest.Creds("new")
	tmpl := "# deploy settings\r\nexport AWS_ACCESS_KEY_ID=\"%s\"\r\nREGION=eu-west-1 # primary\r\nexport AWS_SECRET_ACCESS_KEY='%s'\r\nTAIL=1"
	before := []byte(fmtPair(tmpl, old.AccessKeyID, old.SecretAccessKey.Reveal()))
	want := []byte(fmtPair(tmpl, c.AccessKeyID, c.SecretAccessKey.Reveal()))
	path := filepath.Join(t.TempDir(), "deploy.env")
	if err := os.WriteFile(path, before, 0o640); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	tg := mustParse(t, "envfile:"+path, target.Env{Getenv: getenv(nil), Stderr: &stderr})

	restore := targettest.Deliver(t, tg, c)
	assertFile(t, path, want, 0o640)
	if !strings.Contains(stderr.String(), "readable by others") {
		t.Errorf("no warning about a group-readable credentials file; stderr: %q", stderr.String())
	}
	// Idempotence: a resumed rotation delivers the same key again.
	targettest.Deliver(t, tg, c)
	assertFile(t, path, want, 0o640)

	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertFile(t, path, before, 0o640)
}

func fmtPair(tmpl, id, sec string) string {
	return strings.Replace(strings.Replace(tmpl, "%s", id, 1), "%s", sec, 1)
}

func TestEnvFileCreatesA0600FileAndRestoreRemovesIt(t *testing.T) {
	c := targettest.Creds("new")
	path := filepath.Join(t.TempDir(), ".env")
	tg := mustParse(t, "envfile:"+path, target.Env{})
	restore := targettest.Deliver(t, tg, c)
	assertFile(t, path, []byte("AWS_ACCESS_KEY_ID="+c.AccessKeyID+"\nAWS_SECRET_ACCESS_KEY="+c.SecretAccessKey.Reveal()+"\n"), 0o600)
	if err := restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("restore left the created file behind: %v", err)
	}
}

func TestEnvFileExpandsHomeAndFollowsSymlinks(t *testing.T) {
	home := t.TempDir()
	real := filepath.Join(home, "real.env")
	if err := os.WriteFile(real, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, filepath.Join(home, "link.env")); err != nil {
		t.Fatal(err)
	}
	c := targettest.Creds("new")
	targettest.Deliver(t, mustParse(t, "envfile:~/link.env", target.Env{Getenv: getenv(map[string]string{"HOME": home})}), c)
	assertFile(t, real, []byte("A=1\nAWS_ACCESS_KEY_ID="+c.AccessKeyID+"\nAWS_SECRET_ACCESS_KEY="+c.SecretAccessKey.Reveal()+"\n"), 0o600)
	if st, err := os.Lstat(filepath.Join(home, "link.env")); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
}

func TestEnvFileRefusesWhatItCannotEdit(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for name, path := range map[string]string{
		"a directory":                   dir,
		"a fifo (must not block)":       fifo,
		"a file in a missing directory": filepath.Join(dir, "missing", ".env"),
	} {
		t.Run(name, func(t *testing.T) {
			c := targettest.Creds("new")
			_, err := mustParse(t, "envfile:"+path, target.Env{}).Deliver(context.Background(), c)
			if err == nil {
				t.Fatal("Deliver succeeded")
			}
			targettest.AssertNoSecret(t, err, c)
		})
	}
}

func assertFile(t *testing.T, path string, want []byte, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != mode {
		t.Errorf("%s mode = %04o, want %04o", path, st.Mode().Perm(), mode)
	}
}
