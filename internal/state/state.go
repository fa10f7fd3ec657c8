// Package state is keywarden's local memory: an embedded SQLite database
// (modernc.org/sqlite, pure Go) holding the journals of rotate and respond,
// the watermarks and baselines of watch, and their history.
//
// # Durability
//
// Every write runs in its own transaction (or in one the caller opens with
// DB.Tx) and the database is in WAL mode with synchronous=FULL, so when Put,
// PutSecret, Log or Tx return nil the change has been fsynced and survives a
// crash or a kill -9 of the process right after. That is what lets rotate
// journal a freshly created access key before doing anything else and resume
// from the last recorded step. Write transactions start with BEGIN IMMEDIATE
// and every connection has a busy timeout, so several keywarden processes can
// share one database; DB.Lock adds an advisory cross-process lock for work
// (such as rotating one key) that must not run twice at once.
//
// # Secrets
//
// A Record's Data is meant to be printed, exported and shown in reports, so
// it never holds credential material. Secrets live in their own table, keyed
// by record id and name, and come back only as secret.Secret. DropSecrets
// overwrites the values with zeros before deleting them; the database runs
// with secure_delete=ON (freed cells and pages are zeroed) and temp_store in
// memory, and after dropping secrets the write-ahead log is checkpointed and
// truncated, so a dropped secret is not left in the database files. The
// directory is 0700 and every file 0600 whatever the umask.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
)

// ErrNotFound is returned when a record, secret or value does not exist.
var ErrNotFound = errors.New("not found")

// ErrNotStateDB is returned by Open when the file at the path is not a
// keywarden state database (not SQLite, or another program's database).
var ErrNotStateDB = errors.New("not a keywarden state database")

// ErrCorrupt is returned when SQLite finds the state database damaged.
var ErrCorrupt = errors.New("database is corrupt")

// busyTimeoutMS is how long a statement waits for another process's write
// transaction before failing with "database is locked". Our transactions are
// a few statements long, so this is only reached when something is stuck.
const busyTimeoutMS = 15000

// DB is an open state database. It is safe for concurrent use.
type DB struct {
	sql  *sql.DB
	path string
}

// DefaultPath is where the state database lives unless the user says
// otherwise: $KEYWARDEN_STATE, else $XDG_STATE_HOME/keywarden/state.db, else
// ~/.local/state/keywarden/state.db.
func DefaultPath() (string, error) {
	if p := os.Getenv("KEYWARDEN_STATE"); p != "" {
		return p, nil
	}
	// The XDG spec says relative values are invalid and must be ignored.
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "keywarden", "state.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find state database: %w (hint: set KEYWARDEN_STATE)", err)
	}
	return filepath.Join(home, ".local", "state", "keywarden", "state.db"), nil
}

// Existing is path ("" is DefaultPath) when a state database is there,
// and false when none is (or no default place can be found): what the
// read-only verbs (scan, audit) ask before opening, so they never create
// a database.
func Existing(path string) (string, bool) {
	if path == "" {
		p, err := DefaultPath()
		if err != nil {
			return "", false
		}
		path = p
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	return path, true
}

// Open opens the state database at path, creating it (and its directory) if
// missing and migrating its schema. A file that is not a keywarden state
// database is an error naming the path and is left untouched.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open state database: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	if err := ensureDir(filepath.Dir(abs)); err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	sqldb, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open state database %s: %w", path, err)
	}
	db := &DB{sql: sqldb, path: abs}
	if err := db.initAlone(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open state database %s: %w", path, classify(err))
	}
	return db, nil
}

// initAlone runs init holding a lock that every process opening the
// database takes: two first runs at once (a cron job and a person) would
// otherwise race through a half-made schema, and SQLite refuses the switch
// to WAL at once, without waiting, while another connection reads. init's
// statements wait at most their busy timeout, so the lock is soon free.
func (db *DB) initAlone() error {
	fl, err := db.lockFile("open-" + filepath.Base(db.path))
	if err == nil {
		err = fl.Lock()
	}
	if err != nil {
		return fmt.Errorf("lock for opening: %w", err)
	}
	defer fl.Unlock()
	return db.init(context.Background())
}

// Path is the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// Close closes the database. The last connection to close checkpoints the
// write-ahead log into the database file and removes it.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close state database %s: %w", db.path, err)
	}
	return nil
}

// dsn builds a file: URI (so that '?' or '#' in the path are escaped) with
// the per-connection settings every pooled connection must carry.
func dsn(path string) string {
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busyTimeoutMS))
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "secure_delete(ON)")
	q.Add("_pragma", "temp_store(MEMORY)")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// ensureDir creates the state directory 0700. An existing directory is left
// as it is: the path may point into a shared place such as /tmp.
func ensureDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// MkdirAll is subject to the umask; say exactly what we mean.
	return os.Chmod(dir, 0o700)
}

// sqliteHeader starts every SQLite 3 database file.
const sqliteHeader = "SQLite format 3\x00"

// prepareFile creates the database file 0600 (SQLite then gives its -wal and
// -shm files the same mode), tightens an existing one that others can read,
// and refuses a non-empty file that is not SQLite before SQLite touches it.
func prepareFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: not a regular file", ErrNotStateDB)
	}
	if st.Size() > 0 {
		head := make([]byte, len(sqliteHeader))
		if _, err := f.ReadAt(head, 0); err != nil || string(head) != sqliteHeader {
			return fmt.Errorf("%w: not an SQLite file (hint: move it away or set KEYWARDEN_STATE)", ErrNotStateDB)
		}
	}
	if st.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return err
		}
	}
	return nil
}

// classify tags SQLite's corruption codes with ErrCorrupt or ErrNotStateDB
// so callers can branch on them and users get a hint.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff { // primary code; extended result codes are on
	case 11: // SQLITE_CORRUPT
		return fmt.Errorf("%w (hint: move it away; rotations in progress are journaled in it): %w", ErrCorrupt, err)
	case 26: // SQLITE_NOTADB
		return fmt.Errorf("%w: %w", ErrNotStateDB, err)
	}
	return err
}
