package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
)

// KV keys are PREFIX kv:<key>, plain strings with Redis's own TTL.

func (s *Store) kvKey(key string) string { return s.prefix + "kv:" + key }

// ms is ttl in whole milliseconds for PX, rounded up so a sub-millisecond
// ttl still expires rather than being refused; 0 for no ttl.
func ms(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// Get returns the value of key, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	val, err := s.client.Get(ctx, s.kvKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: get %q: %w", key, err)
	}
	return val, nil
}

// Set writes val under key; ttl <= 0 keeps it until deleted (and drops a
// ttl it had, as SET does).
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	args := []any{"set", s.kvKey(key), val}
	if p := ms(ttl); p > 0 {
		args = append(args, "px", p)
	}
	var err error
	if s.waitReplicas > 0 {
		err = s.replicated(ctx, func(p redis.Pipeliner) *redis.Cmd { return p.Do(ctx, args...) }).Err()
	} else {
		err = s.client.Do(ctx, args...).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: set %q: %w", key, err)
	}
	return nil
}

// casScript compares and swaps in one round trip. ARGV: hasOld (0/1),
// old, hasNew (0/1), new, ttl ms (0: none). An absent key reads as false
// in Lua, so "must be absent" and "must equal old" stay apart even for an
// empty old.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return 0 end
elseif cur ~= ARGV[2] then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[4])
end
return 1
`)

// CompareAndSwap replaces old with new atomically (a Lua script): old nil
// means key must be absent, new nil deletes it.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	flag := func(b []byte) int {
		if b == nil {
			return 0
		}
		return 1
	}
	n, err := s.script(ctx, casScript, []string{s.kvKey(key)},
		flag(old), old, flag(new), new, ms(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: compare and swap %q: %w", key, err)
	}
	return n == 1, nil
}

// scanBatch is the COUNT hint per SCAN call.
const scanBatch = 1000

// Scan returns every key starting with prefix and its value: SCAN MATCH
// on the escaped prefix, then one pipelined GET per batch. A key that
// expires between the two is left out.
func (s *Store) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	match := escapeGlob(s.kvKey(prefix)) + "*"
	out := make(map[string][]byte)
	var mu sync.Mutex // a Cluster scans its masters concurrently
	scanNode := func(ctx context.Context, c redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, match, scanBatch).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				vals, err := s.getAll(ctx, c, keys)
				if err != nil {
					return err
				}
				mu.Lock()
				for i, k := range keys {
					if vals[i] != nil {
						out[strings.TrimPrefix(k, s.prefix+"kv:")] = vals[i]
					}
				}
				mu.Unlock()
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scanNode(ctx, c) })
	} else {
		err = scanNode(ctx, s.client)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: scan %q: %w", prefix, err)
	}
	return out, nil
}

// getAll GETs keys in one pipeline (not MGET: keys of a Cluster node may
// sit in different slots); a missing key gives nil.
func (s *Store) getAll(ctx context.Context, c redis.Cmdable, keys []string) ([][]byte, error) {
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, cmd := range cmds {
		v, err := cmd.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, err
		default:
			out[i] = v
		}
	}
	return out, nil
}

// escapeGlob makes s match itself literally in a SCAN/KEYS pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
