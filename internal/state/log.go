package state

import (
	"context"
	"fmt"
	"time"
)

// Entry is one line of a record's history.
type Entry struct {
	At      time.Time `json:"at"`
	Step    string    `json:"step"`
	Message string    `json:"message"`
}

// Log appends a line to the history of a record; durable when it returns.
func (db *DB) Log(ctx context.Context, recordID, step, message string) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.Log(ctx, recordID, step, message) })
}

// Entries returns the history of a record, oldest first.
func (db *DB) Entries(ctx context.Context, recordID string) ([]Entry, error) {
	return entries(ctx, db.sql, recordID)
}

// Log is DB.Log inside the transaction.
func (t *Tx) Log(ctx context.Context, recordID, step, message string) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO entries (record_id, at, step, message) VALUES (?, ?, ?, ?)`,
		recordID, time.Now().UnixNano(), step, message)
	if err != nil {
		return fmt.Errorf("log %s of %s: %w", step, recordID, err)
	}
	return nil
}

// Entries is DB.Entries inside the transaction.
func (t *Tx) Entries(ctx context.Context, recordID string) ([]Entry, error) {
	return entries(ctx, t.q, recordID)
}

func entries(ctx context.Context, q querier, recordID string) ([]Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, step, message FROM entries WHERE record_id = ? ORDER BY seq`, recordID)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", recordID, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&at, &e.Step, &e.Message); err != nil {
			return nil, fmt.Errorf("history of %s: %w", recordID, err)
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s: %w", recordID, err)
	}
	return out, nil
}
