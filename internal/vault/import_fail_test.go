package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestImportChecksEveryFileBeforeAnyChange: a file the import must rewrite
// that this user cannot write stops the import before it asks, opens the
// store or changes anything.
func TestImportChecksEveryFileBeforeAnyChange(t *testing.T) {
	a, b := newFixtureKey("a"), newFixtureKey("b")
	creds, config := "[a]\n"+a.lines, "[profile b]\n"+b.lines
	files := sharedFiles(t, creds, config)
	r := newImportRun(t, files, true)
	r.im.writable = func(path string) error {
		if path == files.Config {
			return fmt.Errorf("%s is not writable by this user: permission denied", path)
		}
		return nil
	}
	err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"a", "b"}})
	want := "profile b: " + files.Config + " is not writable by this user: permission denied (checked before any change: nothing was changed)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if len(r.asked) > 0 || r.opened || readText(t, files.Credentials) != creds || readText(t, files.Config) != config {
		t.Errorf("an unwritable file, yet asked %v, opened the store %v, or changed a file", r.asked, r.opened)
	}
}

// TestImportChecksTheStoreBeforeAnyFile: a wrong passphrase (or a store
// that cannot be read) stops the import before any credentials file is
// rewritten and before anything is put in the store.
func TestImportChecksTheStoreBeforeAnyFile(t *testing.T) {
	a := newFixtureKey("a")
	creds := "[a]\n" + a.lines
	files := sharedFiles(t, creds, "")
	r := newImportRun(t, files, true)
	mustPut(t, r.store, "other", testEntry("other"))
	storeBefore := readFile(t, r.store.Path())
	t.Setenv(EnvPassphrase, "not the passphrase")
	r.store = reopen(t, r.store)
	err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"a"}})
	if !errors.Is(err, ErrWrongPassphrase) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("err = %v, want the wrong passphrase, before any change", err)
	}
	if readText(t, files.Credentials) != creds || string(readFile(t, r.store.Path())) != string(storeBefore) {
		t.Error("a wrong passphrase, yet the credentials file or the store changed")
	}
}

// TestImportRollsBackAFailureAfterTheFirstChange: a file that fails once
// the import began (here config's lock cannot be taken, after the
// credentials file was rewritten) puts everything back: each file
// byte-identical with its mode, the store as it was (an entry the import
// replaced is back, the new ones are gone).
func TestImportRollsBackAFailureAfterTheFirstChange(t *testing.T) {
	a, b, older := newFixtureKey("a"), newFixtureKey("b"), testEntry("older")
	creds, config := "# team\n[a]\nregion = eu-west-1\n"+a.lines, "[profile b]\n"+b.lines
	files := sharedFiles(t, creds, config)
	if err := os.Chmod(files.Credentials, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(files.Config+".lock", 0o700); err != nil { // the lock cannot be taken: a failure past the check
		t.Fatal(err)
	}
	r := newImportRun(t, files, true)
	mustPut(t, r.store, "a", older)
	err := r.im.Run(context.Background(), ImportRequest{Profiles: []string{"a", "b"}})
	if err == nil || !strings.HasPrefix(err.Error(), "import profile b: ") || !strings.HasSuffix(err.Error(), "; every change of this import was put back") {
		t.Fatalf("err = %v, want profile b's failure and that everything was put back", err)
	}
	if got := readText(t, files.Credentials); got != creds {
		t.Errorf("credentials file not put back:\n%s", got)
	}
	if st, err := os.Stat(files.Credentials); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("credentials file mode %v (%v), want 0640 kept", st.Mode().Perm(), err)
	}
	if got := readText(t, files.Config); got != config {
		t.Errorf("config file changed:\n%s", got)
	}
	s := reopen(t, r.store)
	if e, err := s.Get("a"); err != nil || e.AccessKeyID != older.AccessKeyID {
		t.Errorf("store entry a = %s (%v), want the entry the import replaced", e.AccessKeyID, err)
	}
	if _, err := s.Get("b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("store entry b after the rollback: %v, want none", err)
	}
	for _, sec := range []string{a.secret, b.secret} {
		if strings.Contains(err.Error(), sec) || strings.Contains(r.out.String()+r.err.String(), sec) {
			t.Error("a secret was printed")
		}
	}
}

func TestCheckWritableTriesWithoutChanging(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/credentials"
	if err := os.WriteFile(path, []byte("[a]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkWritable(path); err != nil {
		t.Fatalf("a file in a temp dir: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || readText(t, path) != "[a]\n" {
		t.Errorf("the check left %d entries or changed the file", len(entries))
	}
	if err := checkWritable(path + "/under-a-file"); err == nil || !strings.HasPrefix(err.Error(), path+"/under-a-file: ") {
		t.Errorf("a path under a regular file: %v, want it refused, named", err)
	}
}
