package watch

import (
	"context"
	"time"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/state"
)

// StateStore keeps detectors' state, dedup and cursors in keywarden's
// SQLite state database (Lambda uses DynamoDB instead).
func StateStore(db *state.DB) detect.Store { return dbStore{db} }

type dbStore struct{ db *state.DB }

func (s dbStore) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	return s.db.Value(ctx, ns, key)
}

func (s dbStore) Put(ctx context.Context, ns, key string, v []byte) error {
	return s.db.SetValue(ctx, ns, key, v)
}

// DedupKeep is how long a dedup mark is kept past its window. --follow and
// --resume only move forward (re-reading at most an hour back for late
// deliveries), so a mark not written again for this long silences nothing,
// and without pruning the marks would pile up for as long as watch runs.
const DedupKeep = 7 * 24 * time.Hour

// pruner is a store that can delete what a namespace holds that was last
// written before a time: the state database. Lambda's DynamoDB table
// expires dedup marks through its TTL instead.
type pruner interface {
	deleteBefore(ctx context.Context, namespace string, before time.Time) (int64, error)
}

func (s dbStore) deleteBefore(ctx context.Context, ns string, before time.Time) (int64, error) {
	return s.db.DeleteValuesBefore(ctx, ns, before)
}

// pruneDedup deletes the dedup marks last written before t, when store can,
// and says how many went.
func pruneDedup(ctx context.Context, store detect.Store, before time.Time) (int64, error) {
	p, ok := store.(pruner)
	if !ok {
		return 0, nil
	}
	return p.deleteBefore(ctx, DedupNamespace, before)
}
