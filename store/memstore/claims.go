package memstore

import (
	"context"
	"errors"
	"time"
)

var errClaimTTL = errors.New("memstore: a claim needs a positive ttl")

// Claim takes key for owner for ttl. It is true if owner now holds the
// key, including when owner already held it (the ttl is then left as it
// was: a tick claim is never stretched).
func (s *Store) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, errClaimTTL
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock()
	if it, ok := live(c.claims, key, now); ok {
		return string(it.val) == owner, nil
	}
	if c.claims == nil {
		c.claims = make(map[string]item)
	}
	c.claims[key] = item{val: []byte(owner), exp: now.Add(ttl)}
	return true, nil
}

// Release frees key if owner still holds it; otherwise it does nothing.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := &s.coord
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := live(c.claims, key, c.clock()); ok && string(it.val) == owner {
		delete(c.claims, key)
	}
	return nil
}
