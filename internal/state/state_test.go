package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/keywarden/keywarden/internal/secret"
)

func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name, state, xdg, want string
	}{
		{"explicit variable wins", "/srv/kw.db", "/xdg", "/srv/kw.db"},
		{"xdg state home", "", "/xdg", "/xdg/keywarden/state.db"},
		{"relative xdg is ignored", "", "rel", filepath.Join(home, ".local/state/keywarden/state.db")},
		{"home fallback", "", "", filepath.Join(home, ".local/state/keywarden/state.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("HOME", home)
			t.Setenv("KEYWARDEN_STATE", tt.state)
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			got, err := DefaultPath()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultPath() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Kind: "rotation", ID: "rot-1", Subject: "AKIAIOSFODNN7EXAMPLE", Step: "created",
		Data: []byte(`{"user":"alice"}`), Open: true}
	mustPut(t, db, rec)
	if err := db.PutSecret(ctx, "rot-1", "secret", secret.New("s3cr3t-value")); err != nil {
		t.Fatal(err)
	}
	if err := db.Log(ctx, "rot-1", "created", "created key"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetValue(ctx, "watch", "watermark", []byte("2026-11-23")); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Get(ctx, "rotation", "rot-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, got, ignoreTimes); diff != "" {
		t.Errorf("record after reopen (-want +got):\n%s", diff)
	}
	s, err := db.Secret(ctx, "rot-1", "secret")
	if err != nil || s.Reveal() != "s3cr3t-value" {
		t.Errorf("secret after reopen = %v, %v", s, err)
	}
	ents, err := db.Entries(ctx, "rot-1")
	if err != nil || len(ents) != 1 || ents[0].Message != "created key" {
		t.Errorf("entries after reopen = %+v, %v", ents, err)
	}
	v, ok, err := db.Value(ctx, "watch", "watermark")
	if err != nil || !ok || string(v) != "2026-11-23" {
		t.Errorf("value after reopen = %q, %v, %v", v, ok, err)
	}
}

// TestFileModes runs with umask 0, so every mode checked is one the package
// set itself rather than one the umask happened to give.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "deep", "keywarden")
	db, err := Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustPut(t, db, Record{Kind: "k", ID: "1"}) // creates -wal and -shm
	unlock, err := db.Lock(ctx, "AKIAIOSFODNN7EXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	want := map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "locks"): 0o700}
	entries, _ := filepath.Glob(filepath.Join(dir, "state.db*"))
	locks, _ := filepath.Glob(filepath.Join(dir, "locks", "*"))
	for _, p := range append(entries, locks...) {
		want[p] = 0o600
	}
	if len(entries) < 3 || len(locks) != 2 {
		t.Fatalf("files = %v %v, want state.db, -wal, -shm, Open's lock and one more", entries, locks)
	}
	for p, mode := range want {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode = %o, want %o", p, st.Mode().Perm(), mode)
		}
	}
}

func TestOpenTightensLooseExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after reopen = %o, want 600", st.Mode().Perm())
	}
}

func TestOpenRefusesFilesThatAreNotOurs(t *testing.T) {
	garbage := make([]byte, 8192)
	rand.Read(garbage)
	tests := []struct {
		name    string
		want    error
		content func(t *testing.T, path string)
	}{
		{"random bytes", ErrNotStateDB, func(t *testing.T, path string) { writeFile(t, path, garbage) }},
		{"text file", ErrNotStateDB, func(t *testing.T, path string) { writeFile(t, path, []byte("[default]\nregion = x\n")) }},
		{"another program's sqlite database", ErrNotStateDB, func(t *testing.T, path string) {
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi')"); err != nil {
				t.Fatal(err)
			}
		}},
		{"state database with a destroyed schema page", ErrCorrupt, func(t *testing.T, path string) {
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			b, _ := os.ReadFile(path)
			copy(b[100:4096], garbage) // keep the 100-byte header, wreck the schema page
			writeFile(t, path, b)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			tt.content(t, path)
			before, _ := os.ReadFile(path)
			db, err := Open(path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.want) {
				t.Errorf("error is not %v", tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Error("Open modified the file it refused")
			}
		})
	}
}

func TestOpenRefusesNotStateDBWithSentinel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeFile(t, path, []byte("not a database at all"))
	_, err := Open(path)
	if !errors.Is(err, ErrNotStateDB) {
		t.Errorf("Open error = %v, want ErrNotStateDB", err)
	}
	if matches, _ := filepath.Glob(path + "-*"); len(matches) != 0 {
		t.Errorf("Open left files beside a refused database: %v", matches)
	}
}

func TestOpenAdoptsEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	writeFile(t, path, nil) // e.g. made by touch: nothing to lose
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustPut(t, db, Record{Kind: "k", ID: "1"})
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %v, want a newer-schema error", err)
	}
}

// TestConnectionsAreDurableAndWipe checks the settings every pooled
// connection carries, not just the first one.
func TestConnectionsAreDurableAndWipe(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var sync, secure, busy int
		var mode string
		row := c.QueryRowContext(ctx, "SELECT * FROM pragma_synchronous, pragma_secure_delete, pragma_busy_timeout, pragma_journal_mode")
		if err := row.Scan(&sync, &secure, &busy, &mode); err != nil {
			t.Fatal(err)
		}
		got := []any{sync, secure, busy, mode}
		if diff := cmp.Diff([]any{2, 1, busyTimeoutMS, "wal"}, got); diff != "" {
			t.Errorf("conn %d synchronous, secure_delete, busy_timeout, journal_mode (-want +got):\n%s", i, diff)
		}
		c.Close()
	}
}

func TestTwoHandlesBothWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	var dbs [2]*DB
	for i := range dbs {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dbs[i] = db
	}
	const each = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, db := range dbs {
		wg.Go(func() {
			for j := range each {
				id := NewID("w" + string(rune('a'+i)))
				err := db.Tx(ctx, func(tx *Tx) error {
					if err := tx.Put(ctx, Record{Kind: "w", ID: id, Step: "x"}); err != nil {
						return err
					}
					return tx.Log(ctx, id, "x", "write "+string(rune('0'+j%10)))
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got, err := dbs[1].List(ctx, "w", Filter{})
	if err != nil || len(got) != 2*each {
		t.Errorf("List after two writers = %d records, %v; want %d", len(got), err, 2*each)
	}
}

var ignoreTimes = cmpopts.IgnoreFields(Record{}, "CreatedAt", "UpdatedAt")

func mustPut(t testing.TB, db *DB, r Record) {
	t.Helper()
	if err := db.Put(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
