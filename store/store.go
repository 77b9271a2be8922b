// Package store keeps credmon's state — recent results, tokens, locks,
// incidents and the notification outbox — behind small interfaces with
// memory, bolt (embedded, the default) and redis implementations.
package store

import (
	"context"
	"errors"

	"github.com/credmon/credmon/checks"
)

// ErrNotFound is returned when a key has no value.
var ErrNotFound = errors.New("store: not found")

// ErrNoKey is returned by PutResult for a result without Env or Check: such
// a result has no "ENV/CHECK" key to be found by.
var ErrNoKey = errors.New("store: result has no env or check")

// Results keeps the recent results of every check.
//
// "Newest" means latest Started, not last written: a slow run of an earlier
// tick that finishes after a later one (or on another replica) must not
// become the current state. Results with equal Started have no defined order.
type Results interface {
	// PutResult records a result; only the newest Keep per check are kept.
	PutResult(ctx context.Context, r checks.Result) error
	// RecentResults returns up to n newest results of one check (key
	// "ENV/CHECK"), newest first. An unknown key or n <= 0 gives none.
	RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error)
	// LatestResults returns the newest result of every check, ordered by key.
	LatestResults(ctx context.Context) ([]checks.Result, error)
}

// Keep is how many results per check a store retains.
const Keep = 100

// Store is every concern a driver implements.
type Store interface {
	Results
	Close() error
}
