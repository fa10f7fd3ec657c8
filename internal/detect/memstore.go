package detect

import (
	"context"
	"slices"
	"sync"
)

// MemStore is a Store in memory: for tests, and for one-shot runs (respond's
// review of a key's history) that need no state afterwards.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Get returns a copy of the value under namespace and key.
func (s *MemStore) Get(ctx context.Context, namespace, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[namespace+"\x00"+key]
	return slices.Clone(v), ok, nil
}

// Put stores a copy of value.
func (s *MemStore) Put(ctx context.Context, namespace, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	s.m[namespace+"\x00"+key] = slices.Clone(value)
	return nil
}

// Len is the number of stored values.
func (s *MemStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
