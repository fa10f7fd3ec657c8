package vault

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/secret"
)

func TestEntriesRoundTripThroughTheFile(t *testing.T) {
	s := fileStore(t)
	want := map[string]Entry{"prod": testEntry("prod"), "dev": testEntry("dev"), "ci": testEntry("ci")}
	for p, e := range want {
		mustPut(t, s, p, e)
	}
	r := reopen(t, s)
	for p, e := range want {
		got, err := r.Get(p)
		if err != nil {
			t.Fatalf("Get(%s): %v", p, err)
		}
		if diff := cmp.Diff(e, got, secretCmp); diff != "" {
			t.Errorf("Get(%s) (-want +got):\n%s", p, diff)
		}
	}
	list, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	at := testEntry("x").ImportedAt
	wantList := []Listed{
		{"ci", want["ci"].AccessKeyID, at}, {"dev", want["dev"].AccessKeyID, at}, {"prod", want["prod"].AccessKeyID, at},
	}
	if diff := cmp.Diff(wantList, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestPutReplacesAndRemoveDeletes(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "prod", testEntry("old"))
	mustPut(t, s, "prod", testEntry("new"))
	got, err := reopen(t, s).Get("prod")
	if err != nil || got.AccessKeyID != testEntry("new").AccessKeyID {
		t.Fatalf("Get after replace = %v, %v; want the new key", got.AccessKeyID, err)
	}
	if err := s.Remove("prod"); err != nil {
		t.Fatal(err)
	}
	_, err = reopen(t, s).Get("prod")
	wantErr(t, err, ErrNotFound)
	wantErr(t, s.Remove("prod"), ErrNotFound)
}

func TestPutRejectsIncompleteEntries(t *testing.T) {
	s := fileStore(t)
	for name, e := range map[string]Entry{
		"no key id": {SecretAccessKey: secret.New("x")},
		"no secret": {AccessKeyID: "AKIAIOSFODNN7EXAMPLE"},
	} {
		if err := s.Put("p", e); err == nil {
			t.Errorf("%s: Put succeeded", name)
		}
	}
	if err := s.Put("", testEntry("a")); err == nil {
		t.Error("empty profile: Put succeeded")
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected Put created the store: %v", err)
	}
}

func TestSessionIsReturnedOnlyWhileValidForTheMargin(t *testing.T) {
	// Ahead of the clock, so PutSession (which drops sessions expired by the
	// real clock) keeps them all.
	now := time.Now().Add(time.Hour).Truncate(time.Second)
	tests := []struct {
		name string
		exp  time.Time
		ok   bool
	}{
		{"valid for an hour", now.Add(time.Hour), true},
		{"valid for exactly the margin", now.Add(SessionMargin), true},
		{"expires within the margin", now.Add(SessionMargin - time.Second), false},
		{"already expired", now.Add(-time.Minute), false},
	}
	s := fileStore(t)
	for _, tt := range tests {
		if err := s.PutSession(tt.name, testSession(tt.name, tt.exp)); err != nil {
			t.Fatal(err)
		}
	}
	r := reopen(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := r.Session(tt.name, now)
			if err != nil || ok != tt.ok {
				t.Fatalf("Session = ok %v, err %v; want ok %v", ok, err, tt.ok)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(testSession(tt.name, tt.exp), got, secretCmp); diff != "" {
				t.Errorf("Session (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok, err := r.Session("unknown", now); ok || err != nil {
		t.Errorf("unknown key: ok %v, err %v", ok, err)
	}
}

func TestPutSessionDropsExpiredSessions(t *testing.T) {
	s := fileStore(t)
	past := time.Now().Add(-time.Hour)
	if err := s.PutSession("stale", testSession("stale", past)); err != nil {
		t.Fatal(err)
	}
	// Asked as of before its expiry, the stale session is still stored.
	if _, ok, _ := s.Session("stale", past.Add(-time.Hour)); !ok {
		t.Fatal("stale session not stored at all")
	}
	if err := s.PutSession("fresh", testSession("fresh", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	r := reopen(t, s)
	if _, ok, _ := r.Session("stale", past.Add(-time.Hour)); ok {
		t.Error("PutSession kept an expired session")
	}
	if _, ok, _ := r.Session("fresh", time.Now()); !ok {
		t.Error("fresh session missing")
	}
}

func TestDropSessionsByPrefix(t *testing.T) {
	s := fileStore(t)
	exp := time.Now().Add(time.Hour)
	for _, k := range []string{"prod", "prod/admin", "production", "dev"} {
		if err := s.PutSession(k, testSession(k, exp)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DropSessions("prod"); err != nil {
		t.Fatal(err)
	}
	r := reopen(t, s)
	for k, want := range map[string]bool{"prod": false, "prod/admin": false, "production": false, "dev": true} {
		if _, ok, _ := r.Session(k, time.Now()); ok != want {
			t.Errorf("Session(%s) ok = %v, want %v", k, ok, want)
		}
	}
	before := readFile(t, s.Path())
	if err := s.DropSessions("nothing-matches"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, readFile(t, s.Path())) {
		t.Error("DropSessions with nothing to drop rewrote the file")
	}
}

func TestMissingStoreReadsEmptyWithoutAPrompt(t *testing.T) {
	cleanEnv(t)
	path := filepath.Join(t.TempDir(), "sub", "vault.age")
	s := mustOpen(t, Options{Path: path, Backend: BackendFile, Passphrase: func(bool) (secret.Secret, error) {
		t.Error("asked for a passphrase")
		return secret.Secret{}, errors.New("no")
	}})
	_, err := s.Get("prod")
	wantErr(t, err, ErrNotFound)
	if l, err := s.List(); err != nil || len(l) != 0 {
		t.Errorf("List = %v, %v", l, err)
	}
	if _, ok, err := s.Session("prod", time.Now()); ok || err != nil {
		t.Errorf("Session = %v, %v", ok, err)
	}
	if err := s.DropSessions(""); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.Remove("prod"), ErrNotFound)
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reads created the store directory: %v", err)
	}
}

func TestPassphraseCallbackConfirmsOnlyForANewStore(t *testing.T) {
	cleanEnv(t)
	var calls []bool
	ask := func(confirm bool) (secret.Secret, error) {
		calls = append(calls, confirm)
		return secret.New(testPass), nil
	}
	path := filepath.Join(t.TempDir(), "vault.age")
	s := mustOpen(t, Options{Path: path, Backend: BackendFile, Passphrase: ask, ScryptLogN: testLogN})
	mustPut(t, s, "a", testEntry("a"))
	mustPut(t, s, "b", testEntry("b"))
	r := mustOpen(t, Options{Path: path, Passphrase: ask})
	if _, err := r.Get("a"); err != nil {
		t.Fatal(err)
	}
	mustPut(t, r, "c", testEntry("c"))
	if diff := cmp.Diff([]bool{true, false}, calls); diff != "" {
		t.Errorf("prompts (confirm flags) (-want +got):\n%s", diff)
	}
}

func TestNoPassphraseSourceIsAClearError(t *testing.T) {
	cleanEnv(t)
	s := mustOpen(t, Options{Path: filepath.Join(t.TempDir(), "v.age"), Backend: BackendFile})
	wantErr(t, s.Put("a", testEntry("a")), ErrNoPassphrase)
}

func TestFilesAreOwnerOnly(t *testing.T) {
	s := fileStore(t)
	nested := mustOpen(t, Options{Path: filepath.Join(filepath.Dir(s.Path()), "a", "b", "vault.age"), Backend: BackendFile, ScryptLogN: testLogN})
	mustPut(t, nested, "p", testEntry("1"))
	mustPut(t, nested, "p", testEntry("2")) // makes the .bak
	p := nested.Path()
	for path, want := range map[string]os.FileMode{
		p: 0o600, p + ".bak": 0o600, p + ".lock": 0o600,
		filepath.Dir(p): 0o700 | os.ModeDir, filepath.Dir(filepath.Dir(p)): 0o700 | os.ModeDir,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
	}
}

func TestBackupHoldsThePreviousVersion(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "a", testEntry("a"))
	first := readFile(t, s.Path())
	mustPut(t, s, "b", testEntry("b"))
	if !bytes.Equal(first, readFile(t, s.Path()+".bak")) {
		t.Fatal(".bak is not the version before the last write")
	}
}

func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, vault, xdg, want string
	}{
		{"KEYWARDEN_VAULT wins", "/x/v.age", "/data", "/x/v.age"},
		{"XDG_DATA_HOME", "", "/data", "/data/keywarden/vault.age"},
		{"relative XDG_DATA_HOME is ignored", "", "rel", filepath.Join(home, ".local/share/keywarden/vault.age")},
		{"home fallback", "", "", filepath.Join(home, ".local/share/keywarden/vault.age")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv(EnvPath, tt.vault)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			got, err := DefaultPath()
			if err != nil || got != tt.want {
				t.Errorf("DefaultPath() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRewriteKeepsTheFilesWorkFactor(t *testing.T) {
	s := fileStore(t)
	mustPut(t, s, "a", testEntry("a"))
	for _, tt := range []struct {
		name string
		opt  int
		want int
	}{
		{"default keeps the file's", 0, testLogN},
		{"explicit wins", testLogN + 1, testLogN + 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustOpen(t, Options{Path: s.Path(), ScryptLogN: tt.opt})
			mustPut(t, r, "b", testEntry("b"))
			_, logN, err := sniffBackend(readFile(t, s.Path()))
			if err != nil || logN != tt.want {
				t.Errorf("work factor after rewrite = %d, %v; want %d", logN, err, tt.want)
			}
		})
	}
}
