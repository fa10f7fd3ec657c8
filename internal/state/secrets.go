package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/secret"
)

// PutSecret stores (or replaces) the secret name of a record, e.g. the
// secret access key of a key rotate just created. The record must exist.
func (db *DB) PutSecret(ctx context.Context, recordID, name string, s secret.Secret) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.PutSecret(ctx, recordID, name, s) })
}

// Secret returns a stored secret, or an error wrapping ErrNotFound.
func (db *DB) Secret(ctx context.Context, recordID, name string) (secret.Secret, error) {
	return getSecret(ctx, db.sql, recordID, name)
}

// DropSecrets wipes every secret of a record: overwritten, deleted, and the
// write-ahead log truncated so no copy is left in the database files. An
// error from the truncation comes after the delete committed; calling
// DropSecrets again is safe.
func (db *DB) DropSecrets(ctx context.Context, recordID string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DropSecrets(ctx, recordID) })
}

// PutSecret is DB.PutSecret inside the transaction.
func (t *Tx) PutSecret(ctx context.Context, recordID, name string, s secret.Secret) error {
	if name == "" {
		return fmt.Errorf("put secret of %s: empty name", recordID)
	}
	var one int
	err := t.q.QueryRowContext(ctx, `SELECT 1 FROM records WHERE id = ?`, recordID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("put secret %s of %s: record %w", name, recordID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("put secret %s of %s: %w", name, recordID, err)
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO secrets (record_id, name, value, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (record_id, name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`,
		recordID, name, []byte(s.Reveal()), time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("put secret %s of %s: %w", name, recordID, err)
	}
	return nil
}

// Secret is DB.Secret inside the transaction.
func (t *Tx) Secret(ctx context.Context, recordID, name string) (secret.Secret, error) {
	return getSecret(ctx, t.q, recordID, name)
}

// DropSecret wipes one secret of a record, as DropSecrets does for all.
// Dropping a secret that does not exist is not an error.
func (db *DB) DropSecret(ctx context.Context, recordID, name string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.DropSecret(ctx, recordID, name) })
}

// DropSecrets is DB.DropSecrets inside the transaction; the log is wiped
// after the transaction commits.
func (t *Tx) DropSecrets(ctx context.Context, recordID string) error {
	if err := t.wipe(ctx, `record_id = ?`, recordID); err != nil {
		return fmt.Errorf("drop secrets of %s: %w", recordID, err)
	}
	return nil
}

// DropSecret is DB.DropSecret inside the transaction.
func (t *Tx) DropSecret(ctx context.Context, recordID, name string) error {
	if err := t.wipe(ctx, `record_id = ? AND name = ?`, recordID, name); err != nil {
		return fmt.Errorf("drop secret %s of %s: %w", name, recordID, err)
	}
	return nil
}

// wipe zeroes, then deletes, the secrets matching where. Zeroing in place
// first means the bytes leave the page even if secure_delete were off.
func (t *Tx) wipe(ctx context.Context, where string, args ...any) error {
	if _, err := t.q.ExecContext(ctx, `UPDATE secrets SET value = zeroblob(length(value)) WHERE `+where, args...); err != nil {
		return err
	}
	if _, err := t.q.ExecContext(ctx, `DELETE FROM secrets WHERE `+where, args...); err != nil {
		return err
	}
	t.dropped = true
	return nil
}

func getSecret(ctx context.Context, q querier, recordID, name string) (secret.Secret, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE record_id = ? AND name = ?`, recordID, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return secret.Secret{}, fmt.Errorf("secret %s of %s: %w", name, recordID, ErrNotFound)
	}
	if err != nil {
		return secret.Secret{}, fmt.Errorf("secret %s of %s: %w", name, recordID, err)
	}
	s := secret.New(string(v))
	clear(v)
	return s, nil
}

// wipeLog copies the write-ahead log into the database and truncates it to
// zero bytes, so page images written before a DropSecrets (which still hold
// the secret) do not stay in the -wal file. If another process is reading,
// the checkpoint waits for it up to the busy timeout.
func (db *DB) wipeLog(ctx context.Context) error {
	var busy, logFrames, done int
	err := db.sql.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done)
	if err != nil {
		return fmt.Errorf("wipe write-ahead log of %s: %w", db.path, err)
	}
	if busy != 0 {
		return fmt.Errorf("wipe write-ahead log of %s: database busy, old secret pages may remain until the next checkpoint", db.path)
	}
	return nil
}
