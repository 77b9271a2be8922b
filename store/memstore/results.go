package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// entry is one stored result, ordered by started.
type entry struct {
	started time.Time
	status  checks.Status
	data    []byte
}

// PutResult records r, keeping the newest store.Keep results of its check.
func (s *Store) PutResult(ctx context.Context, r checks.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !r.Subject().Valid() {
		return store.ErrNoKey
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("memstore: encode result %s: %w", r.Key(), err)
	}
	key := r.Key()
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.results[key]
	// Insert after every entry that did not start later, so equal times
	// keep write order and in-order writes append.
	i := sort.Search(len(list), func(i int) bool { return list[i].started.After(r.Started) })
	list = slices.Insert(list, i, entry{started: r.Started, status: r.Status, data: data})
	if over := len(list) - store.Keep; over > 0 {
		// Delete, not reslice: the backing array stays Keep+1 long and the
		// dropped results can be collected.
		list = slices.Delete(list, 0, over)
	}
	s.results[key] = list
	return nil
}

// RecentResults returns up to n newest results of key, newest first.
func (s *Store) RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	list := s.results[key]
	n = min(max(n, 0), len(list))
	picked := make([][]byte, 0, n)
	for i := len(list) - 1; i >= len(list)-n; i-- {
		picked = append(picked, list[i].data)
	}
	s.mu.RUnlock()
	return decode(picked)
}

// LatestResults returns the newest result of every check, ordered by key.
func (s *Store) LatestResults(ctx context.Context) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	keys := make([]string, 0, len(s.results))
	for k, list := range s.results {
		if len(list) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	picked := make([][]byte, 0, len(keys))
	for _, k := range keys {
		list := s.results[k]
		picked = append(picked, list[len(list)-1].data)
	}
	s.mu.RUnlock()
	return decode(picked)
}

// RecentStatuses returns the statuses of every check's kept results,
// newest first.
func (s *Store) RecentStatuses(ctx context.Context) (map[string][]checks.Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]checks.Status, len(s.results))
	for k, list := range s.results {
		if len(list) == 0 {
			continue
		}
		st := make([]checks.Status, 0, len(list))
		for i := len(list) - 1; i >= 0; i-- {
			st = append(st, list[i].status)
		}
		out[k] = st
	}
	return out, nil
}

// decode runs outside the lock: the byte slices are never modified once
// stored, only dropped.
func decode(data [][]byte) ([]checks.Result, error) {
	out := make([]checks.Result, len(data))
	for i, d := range data {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			return nil, fmt.Errorf("memstore: decode result: %w", err)
		}
	}
	return out, nil
}

// DeleteResults forgets every result of keys.
func (s *Store) DeleteResults(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.results, k)
	}
	return nil
}
