package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SetValue stores v under (namespace, key): watch's watermarks, baselines and
// alert dedup marks. Not for secrets. Durable when it returns.
func (db *DB) SetValue(ctx context.Context, namespace, key string, v []byte) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.SetValue(ctx, namespace, key, v) })
}

// Value returns the value under (namespace, key) and whether it exists.
func (db *DB) Value(ctx context.Context, namespace, key string) ([]byte, bool, error) {
	return value(ctx, db.sql, namespace, key)
}

// SetValue is DB.SetValue inside the transaction.
func (t *Tx) SetValue(ctx context.Context, namespace, key string, v []byte) error {
	if v == nil {
		v = []byte{} // the column is NOT NULL; an empty value is still a value
	}
	_, err := t.q.ExecContext(ctx, `INSERT INTO kv (namespace, key, value, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		namespace, key, v, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("set %s/%s: %w", namespace, key, err)
	}
	return nil
}

// Value is DB.Value inside the transaction.
func (t *Tx) Value(ctx context.Context, namespace, key string) ([]byte, bool, error) {
	return value(ctx, t.q, namespace, key)
}

func value(ctx context.Context, q querier, namespace, key string) ([]byte, bool, error) {
	var v []byte
	err := q.QueryRowContext(ctx, `SELECT value FROM kv WHERE namespace = ? AND key = ?`, namespace, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", namespace, key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// DeleteValuesBefore deletes the values of namespace last set before t and
// says how many went: state that is only ever added to (watch's dedup marks)
// is pruned this way.
func (db *DB) DeleteValuesBefore(ctx context.Context, namespace string, t time.Time) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM kv WHERE namespace = ? AND updated_at < ?`, namespace, t.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", namespace, err)
	}
	return res.RowsAffected()
}
