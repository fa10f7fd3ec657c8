package canary

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keywarden/keywarden/internal/state"
)

// SaveLastUsed writes the checked canaries' new baselines into their
// records in db, keeping each record's journal step; a canary deleted
// since it was read is skipped.
func SaveLastUsed(ctx context.Context, db *state.DB, cs []Canary) error {
	return db.Tx(ctx, func(tx *state.Tx) error {
		for _, c := range cs {
			r, err := tx.Get(ctx, Kind, c.Name)
			if errors.Is(err, state.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			cur, err := FromRecord(r)
			if err != nil {
				return err
			}
			cur.LastUsed = c.LastUsed
			nr, err := cur.Record(r.Step, r.Open)
			if err != nil {
				return err
			}
			if err := tx.Put(ctx, nr); err != nil {
				return fmt.Errorf("save the last use of canary %s: %w", c.Name, err)
			}
		}
		return nil
	})
}

// LastUsedNamespace keeps the baselines where there is no state database
// (Lambda's DynamoDB table), per key id.
const LastUsedNamespace = "canary.lastused"

// WithStoredLastUsed returns cs with each baseline read from st, where st
// holds a later one than cs has.
func WithStoredLastUsed(ctx context.Context, st Store, cs []Canary) ([]Canary, error) {
	out := make([]Canary, len(cs))
	for i, c := range cs {
		raw, ok, err := st.Get(ctx, LastUsedNamespace, c.AccessKeyID)
		if err != nil {
			return nil, fmt.Errorf("read the last use of canary %s: %w", c.Name, err)
		}
		var t time.Time
		if ok && len(raw) > 0 {
			if err := json.Unmarshal(raw, &t); err != nil {
				return nil, fmt.Errorf("read the last use of canary %s: %w", c.Name, err)
			}
		}
		if t.After(c.LastUsed) { // else the baseline cs came with (none stored yet)
			c.LastUsed = t
		}
		out[i] = c
	}
	return out, nil
}

// StoreLastUsed writes the baselines of cs into st.
func StoreLastUsed(ctx context.Context, st Store, cs []Canary) error {
	for _, c := range cs {
		b, _ := json.Marshal(c.LastUsed.UTC())
		if err := st.Put(ctx, LastUsedNamespace, c.AccessKeyID, b); err != nil {
			return fmt.Errorf("save the last use of canary %s: %w", c.Name, err)
		}
	}
	return nil
}
