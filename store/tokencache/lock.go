package tokencache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// LockRefresh implements checks.TokenLocker with a store lease on
// "tokenrefresh:KEY". Each attempt has its own owner (replica id plus a
// nonce), so two credentials of one process — old and new config during a
// reload — never share a lease, and a late unlock never frees a lease that
// expired and was taken by someone else.
func (c *Cache) LockRefresh(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	owner := c.owner + "/" + hex.EncodeToString(nonce[:])
	lk := "tokenrefresh:" + key
	ok, err := c.claims.Claim(ctx, lk, owner, ttl)
	if err != nil {
		return nil, false, fmt.Errorf("tokencache: refresh lock %s: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	unlock := func() {
		// Its own context: the fetch's may be spent, and a lease left behind
		// makes every other replica wait for its TTL.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := c.claims.Release(ctx, lk, owner); err != nil {
			c.log.Warn("token refresh lock not released; it expires by itself", "credential", key, "ttl", ttl, "err", err)
		}
	}
	return unlock, true, nil
}
