package state

import (
	"context"
	"database/sql"
	"fmt"
)

// appID marks a database as keywarden's ("KWDN") in the SQLite header, so
// Open never adopts, and writes into, another program's database.
const appID = 0x4b57444e

// migrations[i] takes the schema from user_version i to i+1. Append only:
// a shipped migration is never edited.
var migrations = []string{
	`CREATE TABLE records (
		id         TEXT PRIMARY KEY,
		kind       TEXT NOT NULL,
		subject    TEXT NOT NULL,
		step       TEXT NOT NULL,
		data       BLOB,
		open       INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX records_kind_subject ON records (kind, subject, created_at);
	CREATE TABLE secrets (
		record_id  TEXT NOT NULL,
		name       TEXT NOT NULL,
		value      BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (record_id, name)
	);
	CREATE TABLE entries (
		seq       INTEGER PRIMARY KEY AUTOINCREMENT,
		record_id TEXT NOT NULL,
		at        INTEGER NOT NULL,
		step      TEXT NOT NULL,
		message   TEXT NOT NULL
	);
	CREATE INDEX entries_record ON entries (record_id, seq);
	CREATE TABLE kv (
		namespace  TEXT NOT NULL,
		key        TEXT NOT NULL,
		value      BLOB NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (namespace, key)
	);`,
}

// init checks the file is ours (before anything writes to it), switches it to
// WAL and brings the schema up to date.
func (db *DB) init(ctx context.Context) error {
	if err := db.checkIdentity(ctx); err != nil {
		return err
	}
	var mode string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("set journal mode: got %q, want wal", mode)
	}
	return db.migrate(ctx)
}

// checkIdentity accepts an empty database or one carrying our application id.
// Reading the schema is also where SQLite notices a corrupt file.
func (db *DB) checkIdentity(ctx context.Context) error {
	var id int64
	if err := db.sql.QueryRowContext(ctx, "PRAGMA application_id").Scan(&id); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	var tables int
	err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&tables)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if id != appID && (id != 0 || tables != 0) {
		return fmt.Errorf("%w: SQLite database of another program (application id %#x)", ErrNotStateDB, id)
	}
	return nil
}

// migrate runs the missing migrations in one immediate transaction, so two
// processes opening a new database at once do not both apply them.
func (db *DB) migrate(ctx context.Context) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this keywarden understands (%d): upgrade keywarden",
			version, len(migrations))
	}
	if version == len(migrations) {
		return nil
	}
	if err := applyMigrations(ctx, tx, version); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

func applyMigrations(ctx context.Context, tx *sql.Tx, from int) error {
	for v := from; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	// PRAGMA values cannot be bound as parameters; both are our constants.
	set := fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", appID, len(migrations))
	if _, err := tx.ExecContext(ctx, set); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}
