package memstore

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/store"
)

// coord holds KV, Claims and Instances under a lock of their own, apart
// from results, so the per-probe Claim never waits behind a status page
// reading every result. Its zero value is ready: maps are made on first
// write.
type coord struct {
	mu        sync.Mutex
	now       func() time.Time // nil means time.Now; tests in this package set it
	kv        map[string]item
	claims    map[string]item // val is the owner
	instances map[string]item // val is the Instance JSON
}

// item is a value with an optional expiry; an expired item is absent and
// is deleted when next looked at.
type item struct {
	val []byte
	exp time.Time // zero: never
}

func (c *coord) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// expiry turns a ttl into a deadline; ttl <= 0 keeps the value.
func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// live returns m[key] if it has not expired, deleting it if it has.
func live(m map[string]item, key string, now time.Time) (item, bool) {
	it, ok := m[key]
	if !ok {
		return item{}, false
	}
	if !it.exp.IsZero() && !now.Before(it.exp) {
		delete(m, key)
		return item{}, false
	}
	return it, true
}

// Get returns the value of key, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := live(c.kv, key, c.clock())
	if !ok {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(it.val), nil
}

// Set writes val under key; ttl <= 0 keeps it until deleted.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kv == nil {
		c.kv = make(map[string]item)
	}
	c.kv[key] = item{val: cloneNonNil(val), exp: expiry(c.clock(), ttl)}
	return nil
}

// CompareAndSwap replaces old with new if key holds old (nil: is absent);
// new nil deletes the key.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := live(c.kv, key, c.clock())
	if old == nil && ok || old != nil && (!ok || !bytes.Equal(it.val, old)) {
		return false, nil
	}
	if new == nil {
		delete(c.kv, key)
		return true, nil
	}
	if c.kv == nil {
		c.kv = make(map[string]item)
	}
	c.kv[key] = item{val: cloneNonNil(new), exp: expiry(c.clock(), ttl)}
	return true, nil
}

// Scan returns every live key starting with prefix and its value.
func (s *Store) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	out := make(map[string][]byte)
	for k := range c.kv {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if it, ok := live(c.kv, k, now); ok {
			out[k] = bytes.Clone(it.val)
		}
	}
	return out, nil
}

// cloneNonNil copies v, keeping an empty value non-nil so it reads back
// as present-and-empty rather than as a deletion.
func cloneNonNil(v []byte) []byte {
	return append([]byte{}, v...)
}
