package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestSecretsStayOutOfRecords(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	sec := awstest.FakeSecret("stay-out")
	rec := Record{Kind: "rotation", ID: "rot-1", Subject: awstest.FakeKeyID("stay-out", 123456789012),
		Step: "created", Data: []byte(`{"user":"alice"}`), Open: true}
	err := db.Tx(ctx, func(tx *Tx) error {
		if err := tx.Put(ctx, rec); err != nil {
			return err
		}
		return tx.PutSecret(ctx, rec.ID, "secret_access_key", secret.New(sec))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.List(ctx, "", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	one, err := db.Get(ctx, "rotation", "rot-1")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(append(got, one))
	printed := fmt.Sprintf("%v %+v", got, one)
	for what, s := range map[string]string{"JSON": string(out), "fmt": printed} {
		if strings.Contains(s, sec) {
			t.Errorf("secret appears in %s output of records: %s", what, s)
		}
	}
	s, err := db.Secret(ctx, "rot-1", "secret_access_key")
	if err != nil || s.Reveal() != sec {
		t.Errorf("Secret() = %v, %v; want the stored value", s, err)
	}
}

func TestPutSecretNeedsRecord(t *testing.T) {
	db := openTemp(t)
	err := db.PutSecret(context.Background(), "nobody", "secret", secret.New("x"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("PutSecret for a missing record = %v, want ErrNotFound", err)
	}
}

func TestPutSecretReplaces(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustPut(t, db, Record{Kind: "k", ID: "r"})
	for _, v := range []string{"first-value", "second-value"} {
		if err := db.PutSecret(ctx, "r", "s", secret.New(v)); err != nil {
			t.Fatal(err)
		}
	}
	if s, err := db.Secret(ctx, "r", "s"); err != nil || s.Reveal() != "second-value" {
		t.Errorf("Secret() = %v, %v; want the second value", s, err)
	}
}

func TestDropSecretsRemovesOnlyThatRecords(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	for _, id := range []string{"a", "b"} {
		mustPut(t, db, Record{Kind: "k", ID: id})
		for _, name := range []string{"id", "secret"} {
			if err := db.PutSecret(ctx, id, name, secret.New(id+"-"+name+"-value")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.DropSecrets(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"id", "secret"} {
		if _, err := db.Secret(ctx, "a", name); !errors.Is(err, ErrNotFound) {
			t.Errorf("secret a/%s after DropSecrets: %v, want ErrNotFound", name, err)
		}
		if s, err := db.Secret(ctx, "b", name); err != nil || s.Reveal() != "b-"+name+"-value" {
			t.Errorf("secret b/%s = %v, %v; want it kept", name, s, err)
		}
	}
	if _, err := db.Get(ctx, "k", "a"); err != nil {
		t.Errorf("record a after DropSecrets: %v, want it kept", err)
	}
}

func TestDropSecretRemovesOneName(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustPut(t, db, Record{Kind: "k", ID: "r"})
	for _, name := range []string{"old", "new"} {
		if err := db.PutSecret(ctx, "r", name, secret.New(name+"-value")); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DropSecret(ctx, "r", "old"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Secret(ctx, "r", "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("dropped secret: %v, want ErrNotFound", err)
	}
	if s, err := db.Secret(ctx, "r", "new"); err != nil || s.Reveal() != "new-value" {
		t.Errorf("other secret = %v, %v; want it kept", s, err)
	}
	if err := db.DropSecret(ctx, "r", "never-stored"); err != nil {
		t.Errorf("dropping a missing secret: %v", err)
	}
}

// TestDroppedSecretLeavesNoBytes looks for the secret in the raw database
// files: present after PutSecret (so the search works), absent after
// DropSecrets while still open (WAL truncated) and after Close.
func TestDroppedSecretLeavesNoBytes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sec := awstest.FakeSecret("wipe-me")
	tok := awstest.FakeSessionToken("wipe-me") // long enough to need overflow pages
	mustPut(t, db, Record{Kind: "rotation", ID: "rot-1", Data: []byte(`{"note":"keep me"}`)})
	if err := db.PutSecret(ctx, "rot-1", "secret_access_key", secret.New(sec)); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSecret(ctx, "rot-1", "session_token", secret.New(tok)); err != nil {
		t.Fatal(err)
	}
	// Push the pages holding the secrets into the main file too.
	if _, err := db.sql.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustPut(t, db, Record{Kind: "filler", ID: fmt.Sprint(i), Data: []byte(`{"pad":"` + strings.Repeat("x", 500) + `"}`)})
	}
	needles := map[string]string{"secret": sec, "token": tok[:60]}
	for what, n := range needles {
		if !inFiles(t, path, n) {
			t.Fatalf("%s not found in the database files before DropSecrets: the search is broken", what)
		}
	}
	if err := db.DropSecrets(ctx, "rot-1"); err != nil {
		t.Fatal(err)
	}
	for what, n := range needles {
		if inFiles(t, path, n) {
			t.Errorf("%s still in the database files after DropSecrets", what)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for what, n := range needles {
		if inFiles(t, path, n) {
			t.Errorf("%s in the database files after DropSecrets and Close", what)
		}
	}
	if !inFiles(t, path, "keep me") {
		t.Error("record data lost from the database file")
	}
}

// inFiles reports whether needle occurs in the database file or the files
// SQLite keeps beside it.
func inFiles(t *testing.T, path, needle string) bool {
	t.Helper()
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(needle)) {
			return true
		}
	}
	return false
}
