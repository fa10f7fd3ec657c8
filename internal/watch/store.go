package watch

import (
	"context"

	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/state"
)

// StateStore keeps detectors' state, dedup and cursors in keywarden's
// SQLite state database (Lambda uses DynamoDB instead).
func StateStore(db *state.DB) detect.Store { return dbStore{db} }

type dbStore struct{ db *state.DB }

func (s dbStore) Get(ns, key string) ([]byte, bool, error) {
	return s.db.Value(context.Background(), ns, key)
}

func (s dbStore) Put(ns, key string, v []byte) error {
	return s.db.SetValue(context.Background(), ns, key, v)
}
