package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/secret"
)

func TestWrongPassphraseLeavesTheFileUntouched(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "prod", testEntry("prod"))
	before := readFile(t, s.Path())
	t.Setenv(EnvPassphrase, "not the passphrase")
	r := reopen(t, s)
	_, err := r.Get("prod")
	wantErr(t, err, ErrWrongPassphrase)
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Errorf("error %q: want one line naming the path and where the passphrase came from", err)
	}
	wantErr(t, r.Put("dev", testEntry("dev")), ErrWrongPassphrase)
	wantErr(t, r.PutSession("dev", testSession("dev", time.Now().Add(time.Hour))), ErrWrongPassphrase)
	wantErr(t, r.Remove("prod"), ErrWrongPassphrase)
	if !bytes.Equal(before, readFile(t, s.Path())) {
		t.Fatal("the store changed after wrong-passphrase writes")
	}
	if _, err := os.Stat(s.Path() + ".bak"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed write made a backup: %v", err)
	}
}

func TestWrongPassphraseFromThePromptAsksAgain(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "prod", testEntry("prod"))
	t.Setenv(EnvPassphrase, "")
	answers := []string{"typo", testPass}
	r := mustOpen(t, Options{Path: s.Path(), Passphrase: func(bool) (secret.Secret, error) {
		a := answers[0]
		answers = answers[1:]
		return secret.New(a), nil
	}})
	_, err := r.Get("prod")
	wantErr(t, err, ErrWrongPassphrase)
	if _, err := r.Get("prod"); err != nil {
		t.Fatalf("second try with the right passphrase: %v", err)
	}
}

// damage functions turn a good store file into a damaged one.
var damages = []struct {
	name      string
	damage    func([]byte) []byte
	openFails bool // the header is gone, so Open cannot even tell the backend
}{
	{"truncated mid-payload", func(b []byte) []byte { return b[:len(b)-20] }, false},
	{"truncated after the header", func(b []byte) []byte { return b[:bytes.Index(b, []byte("\n---"))+60] }, false},
	{"truncated inside the header", func(b []byte) []byte { return b[:30] }, true},
	{"emptied", func([]byte) []byte { return nil }, true},
	{"payload byte flipped", func(b []byte) []byte { b[len(b)-5] ^= 1; return b }, false},
	{"header MAC flipped", func(b []byte) []byte {
		i := bytes.Index(b, []byte("\n--- ")) + 6
		b[i] ^= 1
		return b
	}, false},
	{"replaced by text", func([]byte) []byte { return []byte("[default]\naws_access_key_id = x\n") }, true},
}

func TestDamagedFileIsCorruptAndNeverOverwritten(t *testing.T) {
	for _, tt := range damages {
		t.Run(tt.name, func(t *testing.T) {
			s := fileStore(t)
			mustPut(t, s, "prod", testEntry("prod"))
			mustPut(t, s, "dev", testEntry("dev"))
			bak := readFile(t, s.Path()+".bak")
			damaged := tt.damage(readFile(t, s.Path()))
			if err := os.WriteFile(s.Path(), damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := Open(Options{Path: s.Path(), ScryptLogN: testLogN})
			if err == nil {
				_, err = r.Get("prod")
				wantErr(t, r.Put("new", testEntry("new")), ErrCorrupt)
				wantErr(t, r.PutSession("new", testSession("new", time.Now().Add(time.Hour))), ErrCorrupt)
			} else if !tt.openFails {
				t.Errorf("Open failed, want it to succeed and Get to fail: %v", err)
			}
			wantErr(t, err, ErrCorrupt)
			if msg := err.Error(); !strings.Contains(msg, s.Path()) || !strings.Contains(msg, s.Path()+".bak") {
				t.Errorf("error %q: want it to name the file and the backup", msg)
			}
			if !bytes.Equal(damaged, readFile(t, s.Path())) {
				t.Error("the damaged file was overwritten")
			}
			if !bytes.Equal(bak, readFile(t, s.Path()+".bak")) {
				t.Error("the backup changed")
			}
			// The backup is a working store holding the version before.
			old := mustOpen(t, Options{Path: s.Path() + ".bak"})
			if _, err := old.Get("prod"); err != nil {
				t.Errorf("backup does not open: %v", err)
			}
		})
	}
}

func TestCorruptErrorWithoutBackupSaysSo(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "prod", testEntry("prod"))
	if err := os.WriteFile(s.Path(), readFile(t, s.Path())[:40], 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(Options{Path: s.Path()})
	if err == nil {
		_, err = r.Get("prod")
	}
	wantErr(t, err, ErrCorrupt)
	if !strings.Contains(err.Error(), "no backup") {
		t.Errorf("error %q does not say there is no backup", err)
	}
}

func TestStoreFileHoldsNoPlaintext(t *testing.T) {
	s := fileStore(t)
	e := testEntry("prod")
	sess := testSession("prod", time.Now().Add(time.Hour))
	mustPut(t, s, "production-profile", e)
	if err := s.PutSession("production-profile", sess); err != nil {
		t.Fatal(err)
	}
	raw := readFile(t, s.Path())
	for _, v := range []string{"production-profile", e.AccessKeyID, e.SecretAccessKey.Reveal(), sess.SessionToken.Reveal()[:40], testPass} {
		if bytes.Contains(raw, []byte(v)) {
			t.Errorf("store file contains %.8s… in clear", v)
		}
	}
}

// TestSecretsNeverInErrorsOrOutput collects every error the failure paths
// produce, plus the formatted values, and looks for any secret in them.
func TestSecretsNeverInErrorsOrOutput(t *testing.T) {
	s := fileStore(t)
	e := testEntry("prod")
	sess := testSession("prod", time.Now().Add(time.Hour))
	mustPut(t, s, "prod", e)
	if err := s.PutSession("prod", sess); err != nil {
		t.Fatal(err)
	}
	secrets := []string{e.SecretAccessKey.Reveal(), sess.SecretAccessKey.Reveal(), sess.SessionToken.Reveal(), testPass}
	var texts []string
	add := func(err error) {
		if err != nil {
			texts = append(texts, err.Error())
		}
	}
	got, _ := s.Get("prod")
	gotSess, _, _ := s.Session("prod", time.Now())
	texts = append(texts, fmt.Sprintf("%v %+v %#v %s", got, got, gotSess, gotSess))

	t.Setenv(EnvPassphrase, "wrong "+testPass)
	_, err := reopen(t, s).Get("prod")
	add(err)
	t.Setenv(EnvPassphrase, testPass)
	add(s.Put("", Entry{SecretAccessKey: e.SecretAccessKey}))
	add(s.PutSession("", sess))
	raw := readFile(t, s.Path())
	for _, tt := range damages {
		if err := os.WriteFile(s.Path(), tt.damage(bytes.Clone(raw)), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Open(Options{Path: s.Path()})
		add(err)
		if err == nil {
			_, err = r.Get("prod")
			add(err)
			add(r.Put("prod", e))
		}
	}
	if len(texts) < 5 {
		t.Fatalf("only %d texts collected", len(texts))
	}
	for _, txt := range texts {
		for _, sec := range secrets {
			if strings.Contains(txt, sec) || strings.Contains(txt, sec[:12]) {
				t.Errorf("text %q reveals a secret", txt)
			}
		}
	}
}

func TestOpenRefusesUnknownBackendNames(t *testing.T) {
	cleanEnv(t)
	path := filepath.Join(t.TempDir(), "v.age")
	if _, err := Open(Options{Path: path, Backend: "plaintext"}); err == nil {
		t.Error("Open accepted backend \"plaintext\"")
	}
	t.Setenv(EnvBackend, "kwallet")
	if _, err := Open(Options{Path: path}); err == nil {
		t.Errorf("Open accepted %s=kwallet", EnvBackend)
	}
}
