// Package memstore is the in-memory store: state lives as long as the
// process, for `credmon check`, tests and single-run tools.
package memstore

import (
	"sync"

	"github.com/credmon/credmon/store"
)

var _ store.Store = (*Store)(nil)

// Store keeps state in memory. It is safe for concurrent use. Values are
// kept encoded, as the other drivers keep them, so a caller mutating a
// result after PutResult (or one it got back) never changes what is stored.
type Store struct {
	mu      sync.RWMutex
	results map[string][]entry // per "ENV/CHECK", oldest first
	coord   coord              // KV, Claims and Instances (kv.go)
	outbox  outbox             // the notification outbox (outbox.go)
}

// New returns an empty store.
func New() *Store {
	return &Store{results: make(map[string][]entry)}
}

// Close releases nothing; it exists to satisfy store.Store.
func (s *Store) Close() error { return nil }
