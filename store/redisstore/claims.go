package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claim keys are PREFIX claim:<key> holding the owner, with Redis's TTL.

func (s *Store) claimKey(key string) string { return s.prefix + "claim:" + key }

var errClaimTTL = errors.New("redisstore: a claim needs a positive ttl")

// claimScript is SET NX PX plus "or do I already hold it", in one round
// trip: the daemon claims once per probe, and most claims of a tick are
// lost by the other replicas. (SET NX GET would do it without a script,
// but only from Redis 7.)
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
`)

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
	n, err := claimScript.Run(ctx, s.client, []string{s.claimKey(key)}, owner, ms(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: claim %q: %w", key, err)
	}
	return n == 1, nil
}

// releaseScript deletes the claim only if owner still holds it: a holder
// whose claim expired must not free its successor's.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Release frees key if owner still holds it; otherwise it does nothing.
func (s *Store) Release(ctx context.Context, key, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, s.client, []string{s.claimKey(key)}, owner).Err(); err != nil {
		return fmt.Errorf("redisstore: release %q: %w", key, err)
	}
	return nil
}
