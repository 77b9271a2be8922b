package boltstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

var errClaimTTL = errors.New("boltstore: a claim needs a positive ttl")

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
	k := []byte(key)
	var won bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		now := s.clock()
		if holder, ok := liveValue(tx, bucketClaims, k, now); ok {
			won = string(holder) == owner
			return nil
		}
		b, err := tx.CreateBucketIfNotExists(bucketClaims)
		if err != nil {
			return err
		}
		won = true
		return b.Put(k, seal(now, ttl, []byte(owner)))
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: claim %q: %w", key, err)
	}
	return won, nil
}

// Release frees key if owner still holds it; otherwise it does nothing.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := []byte(key)
	err := s.db.Update(func(tx *bolt.Tx) error {
		holder, ok := liveValue(tx, bucketClaims, k, s.clock())
		if !ok || string(holder) != owner {
			return nil
		}
		return tx.Bucket(bucketClaims).Delete(k)
	})
	if err != nil {
		return fmt.Errorf("boltstore: release %q: %w", key, err)
	}
	return nil
}
