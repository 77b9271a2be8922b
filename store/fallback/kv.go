package fallback

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"time"

	"github.com/credmon/credmon/store"
)

// dirtyKV is a KV write made locally while the primary was down.
type dirtyKV struct {
	deleted bool
	ttl     time.Duration
	// bases, for a key first changed by a compare-and-swap in this
	// outage, are the values the primary may hold if no other replica
	// changed the key since (what the swap replaced; also what it put,
	// when it was tried on the primary first). nil: written back as is.
	bases [][]byte
}

func (s *Store) dirtied(key string, deleted bool, ttl time.Duration) {
	s.mu.Lock()
	s.dirty[key] = dirtyKV{deleted: deleted, ttl: ttl}
	s.mu.Unlock()
}

// dirtiedFrom records a local compare-and-swap, keeping the bases of the
// first change to key in this outage.
func (s *Store) dirtiedFrom(key string, deleted bool, ttl time.Duration, bases [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.dirty[key]; ok {
		bases = prev.bases
	}
	s.dirty[key] = dirtyKV{deleted: deleted, ttl: ttl, bases: bases}
}

// epochKey holds the primary's epoch: a random value written into a
// primary found without one — a Redis that came back empty (restarted
// without persistence) or is new. seenEpochKey, in local only, is the
// epoch this replica last saw. A replica that finds the epoch changed
// since it last looked writes its Reseed prefixes back: every replica
// does, each its own (a replica's mirror holds the keys it wrote), so it
// does not matter which comes back first. A replica that has never seen
// an epoch (a first start) has nothing of the primary's to give back.
const (
	epochKey     = "fallback:epoch"
	seenEpochKey = "fallback:seen-epoch"
)

// sendKV brings the primary up to date with the KV: first every key this
// replica wrote during the outage (the local value wins: the incident of
// a subject is written by its owner alone), then, if the primary came
// back empty since this replica last looked, the Reseed prefixes' last
// known state, where the primary has none of its own.
func (s *Store) sendKV(ctx context.Context) error {
	s.mu.Lock()
	dirty := s.dirty
	s.dirty = map[string]dirtyKV{}
	s.mu.Unlock()
	requeue := func(from map[string]dirtyKV) {
		s.mu.Lock()
		for k, d := range from {
			if _, newer := s.dirty[k]; !newer {
				s.dirty[k] = d
			}
		}
		s.mu.Unlock()
	}
	// Compare-and-swap write-backs only into the primary this replica
	// left: one that came back empty since holds at most what other
	// replicas wrote back from their own stale mirrors (reseed), and this
	// replica's outage writes win over those.
	same := false
	if len(dirty) > 0 {
		var err error
		if same, err = s.sameEpoch(ctx); err != nil {
			requeue(dirty)
			return err
		}
	}
	for key, d := range dirty {
		if !same {
			d.bases = nil
		}
		err := s.writeBack(ctx, key, d)
		if s.unreachable(ctx, err) || ctx.Err() != nil {
			requeue(dirty)
			return errors.Join(err, ctx.Err())
		}
		if err != nil {
			s.log.Warn("store: a value written during the outage was refused by the shared store", "key", key, "err", err)
		}
		delete(dirty, key)
	}
	return s.reseedIfEmptied(ctx)
}

// sameEpoch reports whether the primary still has the epoch this replica
// last saw there: it has not lost its data since.
func (s *Store) sameEpoch(ctx context.Context) (bool, error) {
	cur, err := s.primary.Get(ctx, epochKey)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	seen, err := s.lastSeenEpoch(ctx)
	return err == nil && seen != "" && seen == string(cur), err
}

// lastSeenEpoch is the primary's epoch when this replica last looked, or
// after a restart what the last run kept; "" if it never looked.
func (s *Store) lastSeenEpoch(ctx context.Context) (string, error) {
	s.mu.Lock()
	seen := s.seenEpoch
	s.mu.Unlock()
	if seen != "" {
		return seen, nil
	}
	kept, err := s.local.Get(ctx, seenEpochKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	return string(kept), nil
}

// reseedIfEmptied compares the primary's epoch with the one this replica
// last saw, and writes the Reseed prefixes back when it changed. It costs
// one GET while nothing changes.
func (s *Store) reseedIfEmptied(ctx context.Context) error {
	cur, err := s.primary.Get(ctx, epochKey)
	if errors.Is(err, store.ErrNotFound) {
		cur = []byte(rand.Text())
		ok, err := s.primary.CompareAndSwap(ctx, epochKey, nil, cur, 0)
		if err != nil {
			return err
		}
		if !ok { // another replica wrote it first
			if cur, err = s.primary.Get(ctx, epochKey); err != nil {
				return err
			}
		}
	} else if err != nil {
		return err
	}
	seen, err := s.lastSeenEpoch(ctx)
	if err != nil {
		return err
	}
	if seen == string(cur) {
		return nil
	}
	if seen != "" {
		if err := s.reseed(ctx); err != nil {
			return err
		}
	}
	if err := s.local.Set(ctx, seenEpochKey, cur, 0); err != nil {
		return err
	}
	s.mu.Lock()
	s.seenEpoch = string(cur)
	s.mu.Unlock()
	return nil
}

// reseed writes the Reseed prefixes' local state into the primary where
// it has none.
func (s *Store) reseed(ctx context.Context) error {
	seeded := 0
	for _, prefix := range s.opts.Reseed {
		kept, err := s.local.Scan(ctx, prefix)
		if err != nil {
			return err
		}
		for key, val := range kept {
			ok, err := s.primary.CompareAndSwap(ctx, key, nil, val, 0)
			if err != nil {
				return err
			}
			if ok {
				seeded++
			}
		}
	}
	if seeded > 0 {
		s.log.Warn("store: the shared store came back without its data; wrote back the incident and thread state this replica knew", "keys", seeded)
	}
	return nil
}

// writeBack copies one locally written key into the primary.
func (s *Store) writeBack(ctx context.Context, key string, d dirtyKV) error {
	if d.bases != nil {
		return s.writeBackSwap(ctx, key, d)
	}
	if d.deleted {
		cur, err := s.primary.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = s.primary.CompareAndSwap(ctx, key, cur, nil, 0)
		return err
	}
	val, err := s.local.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil // expired locally meanwhile
	}
	if err != nil {
		return err
	}
	return s.primary.Set(ctx, key, val, d.ttl)
}

// writeBackSwap puts key's local value into the primary if the primary
// still holds one of d's bases, or nothing (a Redis that came back
// empty). Otherwise another replica changed the key during the outage —
// it reached Redis while this one did not, and decided from it — and its
// value stays: key is marked conflicted, and the messages this replica
// still holds from deciding it locally are dropped (moveOutbox).
func (s *Store) writeBackSwap(ctx context.Context, key string, d dirtyKV) error {
	var val []byte
	if !d.deleted {
		v, err := s.local.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil // expired locally meanwhile
		}
		if err != nil {
			return err
		}
		val = v
	}
	cur, err := s.primary.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cur = nil
	case err != nil:
		return err
	}
	if cur != nil && !slices.ContainsFunc(d.bases, func(b []byte) bool { return bytes.Equal(b, cur) }) {
		if bytes.Equal(cur, val) {
			return nil
		}
		s.mu.Lock()
		s.conflicted[key] = true
		s.mu.Unlock()
		s.log.Info("store: another replica changed this key through the shared store during the outage; its value stays", "key", key)
		return nil
	}
	ok, err := s.primary.CompareAndSwap(ctx, key, cur, val, d.ttl)
	if err == nil && !ok {
		// Changed between the read and the swap: the next catch-up looks again.
		s.dirtiedFrom(key, d.deleted, d.ttl, d.bases)
	}
	return err
}
