package fallback

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// PutResult records r in the primary, or locally (and for catch-up) while
// it is down.
func (s *Store) PutResult(ctx context.Context, r checks.Result) error {
	_, onLocal, err := run(ctx, s, func(ctx context.Context, st store.Store) (struct{}, error) {
		return struct{}{}, st.PutResult(ctx, r)
	})
	if onLocal && err == nil {
		s.mu.Lock()
		s.pendingResults = append(s.pendingResults, r)
		if over := len(s.pendingResults) - s.opts.MaxPendingResults; over > 0 {
			s.pendingResults = s.pendingResults[over:]
			s.droppedResults += over
		}
		s.mu.Unlock()
	}
	return err
}

// PutResults records rs in the primary in one call, or locally (and for
// catch-up) while it is down.
func (s *Store) PutResults(ctx context.Context, rs []checks.Result) error {
	_, onLocal, err := run(ctx, s, func(ctx context.Context, st store.Store) (struct{}, error) {
		return struct{}{}, store.PutResults(ctx, st, rs)
	})
	if onLocal && err == nil {
		s.mu.Lock()
		s.pendingResults = append(s.pendingResults, rs...)
		if over := len(s.pendingResults) - s.opts.MaxPendingResults; over > 0 {
			s.pendingResults = s.pendingResults[over:]
			s.droppedResults += over
		}
		s.mu.Unlock()
	}
	return err
}

// RecentResults reads the primary, or local while it is down.
func (s *Store) RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) ([]checks.Result, error) {
		return st.RecentResults(ctx, key, n)
	})
	return v, err
}

// LatestResults reads the primary, or local while it is down.
func (s *Store) LatestResults(ctx context.Context) ([]checks.Result, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) ([]checks.Result, error) { return st.LatestResults(ctx) })
	return v, err
}

// RecentStatuses reads the primary, or local while it is down.
func (s *Store) RecentStatuses(ctx context.Context) (map[string][]checks.Status, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) (map[string][]checks.Status, error) {
		return st.RecentStatuses(ctx)
	})
	return v, err
}

// DeleteResults deletes from the primary, or while it is down locally,
// and drops such results waiting for catch-up, so none comes back.
func (s *Store) DeleteResults(ctx context.Context, keys ...string) error {
	_, _, err := run(ctx, s, func(ctx context.Context, st store.Store) (struct{}, error) {
		return struct{}{}, st.DeleteResults(ctx, keys...)
	})
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[k] = true
	}
	s.mu.Lock()
	s.pendingResults = slices.DeleteFunc(s.pendingResults, func(r checks.Result) bool { return gone[r.Key()] })
	s.mu.Unlock()
	return err
}

// Get reads the primary, or local while it is down.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) ([]byte, error) { return st.Get(ctx, key) })
	return v, err
}

// Set writes the primary (mirrored into local), or local while it is down.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	_, onLocal, err := run(ctx, s, func(ctx context.Context, st store.Store) (struct{}, error) {
		return struct{}{}, st.Set(ctx, key, val, ttl)
	})
	switch {
	case !onLocal && err == nil:
		s.mirror(ctx, key, val, ttl)
	case onLocal && err == nil:
		s.dirtied(key, val == nil, ttl)
	}
	return err
}

// CompareAndSwap swaps in the primary (mirrored into local), or in local
// while it is down.
//
// A swap made locally remembers what it swapped out (the first one per key
// in an outage): when the primary returns, the local value goes back only
// if the primary still holds that — or, when the swap was tried on the
// primary first and may have landed there, what it swapped in. Anything
// else means another replica changed the key during the outage, and its
// value stays (see sendKV).
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	tried := false
	if s.up.Load() {
		var ok bool // read only if the call finished in time
		down, err := s.onPrimary(ctx, func(ctx context.Context) (err error) {
			ok, err = s.primary.CompareAndSwap(ctx, key, old, new, ttl)
			return err
		})
		if !down {
			if ok {
				s.mirror(ctx, key, new, ttl)
			}
			return ok, err
		}
		tried = s.opts.Uncertain(err)
	}
	ok, err := s.local.CompareAndSwap(ctx, key, old, new, ttl)
	if ok {
		bases := [][]byte{old}
		if tried {
			bases = append(bases, new)
		}
		s.dirtiedFrom(key, new == nil, ttl, bases)
	}
	return ok, err
}

// mirror copies a write the primary accepted into local, best effort: the
// copy only matters if the primary goes away before the value changes.
func (s *Store) mirror(ctx context.Context, key string, val []byte, ttl time.Duration) {
	if val != nil {
		_ = s.local.Set(ctx, key, val, ttl)
		return
	}
	cur, err := s.local.Get(ctx, key)
	if err == nil {
		_, _ = s.local.CompareAndSwap(ctx, key, cur, nil, 0)
	}
}

// Scan reads the primary, or local while it is down.
func (s *Store) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) (map[string][]byte, error) { return st.Scan(ctx, prefix) })
	return v, err
}

// Claim claims in the primary, or locally while it is down: exclusive
// within this replica only, so replicas then probe on their own.
func (s *Store) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) (bool, error) { return st.Claim(ctx, key, owner, ttl) })
	return v, err
}

// Release frees key wherever owner may hold it: a claim granted locally
// during an outage may be released after the primary returned.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	_, onLocal, err := run(ctx, s, func(ctx context.Context, st store.Store) (struct{}, error) {
		return struct{}{}, st.Release(ctx, key, owner)
	})
	if !onLocal {
		err = errors.Join(err, s.local.Release(ctx, key, owner))
	}
	return err
}

// Heartbeat records in the primary, or locally while it is down.
func (s *Store) Heartbeat(ctx context.Context, in store.Instance, ttl time.Duration) error {
	_, _, err := run(ctx, s, func(ctx context.Context, st store.Store) (struct{}, error) {
		return struct{}{}, st.Heartbeat(ctx, in, ttl)
	})
	return err
}

// Instances lists the primary's replicas, or only the local ones (this
// replica) while it is down.
func (s *Store) Instances(ctx context.Context) ([]store.Instance, error) {
	v, _, err := run(ctx, s, func(ctx context.Context, st store.Store) ([]store.Instance, error) { return st.Instances(ctx) })
	return v, err
}
