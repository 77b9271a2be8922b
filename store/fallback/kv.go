package fallback

import (
	"context"
	"errors"
	"time"

	"github.com/credmon/credmon/store"
)

// dirtyKV is a KV write made locally while the primary was down.
type dirtyKV struct {
	deleted bool
	ttl     time.Duration
}

func (s *Store) dirtied(key string, deleted bool, ttl time.Duration) {
	s.mu.Lock()
	s.dirty[key] = dirtyKV{deleted: deleted, ttl: ttl}
	s.mu.Unlock()
}

// epochKey marks a primary that holds this deployment's state: a primary
// found without it came back empty (a Redis restarted without
// persistence), and the Reseed prefixes are written back into it.
const epochKey = "fallback:epoch"

// sendKV brings the primary up to date with the KV: first every key this
// replica wrote during the outage (the local value wins: the incident of
// a check is written by its owner alone), then, if the primary came back
// empty, the Reseed prefixes' last known state, where the primary has
// none of its own.
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
	for key, d := range dirty {
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

	_, err := s.primary.Get(ctx, epochKey)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
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
	return s.primary.Set(ctx, epochKey, []byte("1"), 0)
}

// writeBack copies one locally written key into the primary.
func (s *Store) writeBack(ctx context.Context, key string, d dirtyKV) error {
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
