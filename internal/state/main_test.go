package state

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/internal/secret"
)

// The test binary re-executes itself as a helper process to prove behaviour
// across processes (locks, writes that survive a kill). The helper's job is
// chosen by helperEnv; its arguments come in helperPathEnv and helperArgEnv.
const (
	helperEnv     = "KEYWARDEN_STATE_TEST_HELPER"
	helperPathEnv = "KEYWARDEN_STATE_TEST_PATH"
	helperArgEnv  = "KEYWARDEN_STATE_TEST_ARG"
)

func TestMain(m *testing.M) {
	if job := os.Getenv(helperEnv); job != "" {
		if err := runHelper(job, os.Getenv(helperPathEnv), os.Getenv(helperArgEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper does its job, prints "ready", then waits for stdin to close (or
// to be killed) before finishing.
func runHelper(job, path, arg string) error {
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	finish := func() error { return nil }
	switch job {
	case "lock":
		unlock, err := db.Lock(ctx, arg)
		if err != nil {
			return err
		}
		finish = unlock
	case "journal":
		if err := journalKey(ctx, db, arg); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown job %q", job)
	}
	fmt.Println("ready")
	for sc := bufio.NewScanner(os.Stdin); sc.Scan(); {
	}
	return finish()
}

// journalKey is what rotate does first: record the new key and its secret in
// one transaction. The secret is derived from id so the parent can check it.
func journalKey(ctx context.Context, db *DB, id string) error {
	return db.Tx(ctx, func(tx *Tx) error {
		r := Record{Kind: "rotation", ID: id, Subject: "key-" + id, Step: "created", Open: true}
		if err := tx.Put(ctx, r); err != nil {
			return err
		}
		if err := tx.Log(ctx, id, "created", "created new key"); err != nil {
			return err
		}
		return tx.PutSecret(ctx, id, "secret_access_key", secret.New(helperSecret(id)))
	})
}

func helperSecret(id string) string { return "helper-secret-for-" + id }

// openTemp opens a new database in a fresh directory, closed at cleanup.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "state", "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
