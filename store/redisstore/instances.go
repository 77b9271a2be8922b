package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
)

// Instances live in two keys of one hash slot:
//
//	PREFIX instances:{replicas}:expiry  sorted set: ID scored by expiry (ms)
//	PREFIX instances:{replicas}:data    hash: ID → Instance JSON
//
// so listing is one range read plus one HMGET, however many dead replicas
// there once were. Expiry is by the Redis server's clock, not the
// replica's: credmon watches for skewed clocks and must not let one make a
// replica vanish or linger.
func (s *Store) instanceKeys() []string {
	return []string{s.prefix + "instances:{replicas}:expiry", s.prefix + "instances:{replicas}:data"}
}

var errHeartbeatTTL = errors.New("redisstore: a heartbeat needs a positive ttl")

// heartbeatScript records one heartbeat, prunes expired ones, and keeps
// both keys alive as long as the longest heartbeat, so a prefix whose
// replicas are all gone empties itself.
var heartbeatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #dead > 0 then
  redis.call('ZREM', KEYS[1], unpack(dead))
  redis.call('HDEL', KEYS[2], unpack(dead))
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end
return 1
`)

// instancesScript lists live heartbeats by the server's clock: their IDs,
// then their values, so a value that does not read can be named.
var instancesScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
if #ids == 0 then return {{}, {}} end
return {ids, redis.call('HMGET', KEYS[2], unpack(ids))}
`)

// Heartbeat records in as alive for ttl, replacing its earlier heartbeat.
func (s *Store) Heartbeat(ctx context.Context, in store.Instance, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return errHeartbeatTTL
	}
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("redisstore: encode instance %s: %w", in.ID, err)
	}
	if err := heartbeatScript.Run(ctx, s.client, s.instanceKeys(), in.ID, ms(ttl), data).Err(); err != nil {
		return fmt.Errorf("redisstore: heartbeat %s: %w", in.ID, err)
	}
	return nil
}

// Instances lists replicas whose heartbeat has not expired, by ID.
func (s *Store) Instances(ctx context.Context) ([]store.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := instancesScript.Run(ctx, s.client, s.instanceKeys()).Slice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: instances: %w", err)
	}
	var ids, vals []any
	if len(res) == 2 {
		ids, _ = res[0].([]any)
		vals, _ = res[1].([]any)
	}
	out := make([]store.Instance, 0, len(vals))
	damage := store.Damage{What: store.StoredHeartbeats}
	for i, v := range vals {
		data, ok := v.(string)
		if !ok || i >= len(ids) {
			continue // pruned between the two reads of the script: cannot happen, but harmless
		}
		var in store.Instance
		if err := json.Unmarshal([]byte(data), &in); err != nil {
			// One replica's damage must not hide every other.
			id, _ := ids[i].(string)
			damage.Add(id, err)
			continue
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b store.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, damage.Err()
}
