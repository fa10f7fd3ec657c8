package state

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/fault"
)

// Record is one journal entry: a rotation, an incident response, a baseline.
// Data is the caller's JSON and must never hold a secret (see PutSecret).
type Record struct {
	Kind      string          `json:"kind"`    // "rotation", "response", ...
	ID        string          `json:"id"`      // unique across kinds, see NewID
	Subject   string          `json:"subject"` // what it is about, e.g. an access key id
	Step      string          `json:"step"`    // the last step reached
	Data      json.RawMessage `json:"data,omitempty"`
	Open      bool            `json:"open"` // not finished yet (to resume or undo)
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Filter narrows List.
type Filter struct {
	Subject  string // only records about this subject, if set
	OpenOnly bool   // only records still open
}

// NewID returns prefix-<UTC time>-<8 hex>, e.g. rot-20261123T161400Z-1a2b3c4d:
// readable, sortable by creation second, unique in practice.
func NewID(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%s-%s-%s", prefix, time.Now().UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:]))
}

// querier is what *sql.DB and *sql.Tx share, so reads run in or out of a Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction: everything done through it becomes durable
// together when the function given to DB.Tx returns nil, or not at all.
type Tx struct {
	q       querier
	dropped bool // secrets were dropped: wipe the WAL after commit
}

// Tx runs fn in one immediate transaction and commits it if fn returns nil.
// Use it to journal a record and its secret atomically. fn must not use db
// itself for writes (that would wait on this transaction).
func (db *DB) Tx(ctx context.Context, fn func(*Tx) error) (err error) {
	sqltx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction in %s: %w", db.path, err)
	}
	t := &Tx{q: sqltx}
	committed := false
	defer func() {
		if !committed { // an error, or a panic: never leave the write lock held
			_ = sqltx.Rollback()
		}
	}()
	if err = fn(t); err != nil {
		return err
	}
	if err = fault.At("journal commit"); err != nil {
		return err
	}
	committed = true
	if err = sqltx.Commit(); err != nil {
		return fmt.Errorf("commit to %s: %w", db.path, err)
	}
	if t.dropped {
		return db.wipeLog(ctx)
	}
	return nil
}

// Put inserts or replaces a record; it is durable when Put returns.
func (db *DB) Put(ctx context.Context, r Record) error {
	return db.Tx(ctx, func(tx *Tx) error { return tx.Put(ctx, r) })
}

// Get returns one record, or an error wrapping ErrNotFound.
func (db *DB) Get(ctx context.Context, kind, id string) (Record, error) {
	return get(ctx, db.sql, kind, id)
}

// List returns the records of kind (every kind when kind is ""), oldest first.
func (db *DB) List(ctx context.Context, kind string, f Filter) ([]Record, error) {
	return list(ctx, db.sql, kind, f)
}

// Put inserts or replaces a record. CreatedAt is kept from the first Put
// (or taken from r when set); UpdatedAt is now.
func (t *Tx) Put(ctx context.Context, r Record) error {
	if r.Kind == "" || r.ID == "" {
		return fmt.Errorf("put record %q: kind and id are required", r.ID)
	}
	if len(r.Data) > 0 && !json.Valid(r.Data) {
		return fmt.Errorf("put record %s: data is not valid JSON", r.ID)
	}
	now := time.Now().UnixNano()
	created := now
	if !r.CreatedAt.IsZero() {
		created = r.CreatedAt.UnixNano()
	}
	var data any // NULL for empty data
	if len(r.Data) > 0 {
		data = []byte(r.Data)
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO records
		(id, kind, subject, step, data, open, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, step = excluded.step,
			data = excluded.data, open = excluded.open, updated_at = excluded.updated_at
		WHERE kind = excluded.kind`,
		r.ID, r.Kind, r.Subject, r.Step, data, r.Open, created, now)
	if err != nil {
		return fmt.Errorf("put record %s: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("put record %s: id already used by a record of another kind", r.ID)
	}
	return nil
}

// Get returns one record, or an error wrapping ErrNotFound.
func (t *Tx) Get(ctx context.Context, kind, id string) (Record, error) {
	return get(ctx, t.q, kind, id)
}

// List is DB.List inside the transaction.
func (t *Tx) List(ctx context.Context, kind string, f Filter) ([]Record, error) {
	return list(ctx, t.q, kind, f)
}

const recordColumns = `kind, id, subject, step, data, open, created_at, updated_at`

func get(ctx context.Context, q querier, kind, id string) (Record, error) {
	row := q.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = ? AND id = ?`, kind, id)
	r, err := scanRecord(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("get %s %s: %w", kind, id, ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("get %s %s: %w", kind, id, err)
	}
	return r, nil
}

func list(ctx context.Context, q querier, kind string, f Filter) ([]Record, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM records
		WHERE (?1 = '' OR kind = ?1) AND (?2 = '' OR subject = ?2) AND (NOT ?3 OR open)
		ORDER BY created_at, id`, kind, f.Subject, f.OpenOnly)
	if err != nil {
		return nil, fmt.Errorf("list %s records: %w", kind, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("list %s records: %w", kind, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s records: %w", kind, err)
	}
	return out, nil
}

func scanRecord(s interface{ Scan(...any) error }) (Record, error) {
	var r Record
	var data []byte
	var created, updated int64
	if err := s.Scan(&r.Kind, &r.ID, &r.Subject, &r.Step, &data, &r.Open, &created, &updated); err != nil {
		return Record{}, err
	}
	if len(data) > 0 {
		r.Data = json.RawMessage(data)
	}
	r.CreatedAt = time.Unix(0, created).UTC()
	r.UpdatedAt = time.Unix(0, updated).UTC()
	return r, nil
}
