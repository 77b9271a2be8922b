package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// A sorted set rather than a list: replicas and slow probes write out of
// order, and the set keeps time order whoever writes last, with no script.
// Identical results (same Started and content) are kept once, which makes a
// retried put harmless.

// score is Started in microseconds: exact in a float64 for ±285 years
// around 1970, where nanoseconds would round to 256ns steps.
func score(t time.Time) float64 { return float64(t.UnixMicro()) }

func (s *Store) resultsKey(key string) string { return s.checkKey("results", key) }
func (s *Store) checksKey() string            { return s.prefix + "checks" }

// statusesKey is a check's history beside its results: a sorted set of
// "STARTED_µs:STATUS" scored like the results and trimmed with them, so
// the page reads a few bytes per check instead of ten results.
func (s *Store) statusesKey(key string) string { return s.checkKey("statuses", key) }

// PutResult records r and trims its check to the newest store.Keep in one
// pipelined round trip.
func (s *Store) PutResult(ctx context.Context, r checks.Result) error {
	return s.PutResults(ctx, []checks.Result{r})
}

// PutResults records every result in one pipelined round trip.
func (s *Store) PutResults(ctx context.Context, rs []checks.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range rs {
			if !r.Subject().Valid() {
				errs = append(errs, store.ErrNoKey)
				continue
			}
			data, err := json.Marshal(r)
			if err != nil {
				errs = append(errs, fmt.Errorf("redisstore: encode result %s: %w", r.Key(), err))
				continue
			}
			rk := s.resultsKey(r.Key())
			p.ZAdd(ctx, rk, redis.Z{Score: score(r.Started), Member: data})
			p.ZRemRangeByRank(ctx, rk, 0, -store.Keep-1)
			sk := s.statusesKey(r.Key())
			p.ZAdd(ctx, sk, redis.Z{Score: score(r.Started), Member: strconv.FormatInt(r.Started.UnixMicro(), 10) + ":" + string(r.Status)})
			p.ZRemRangeByRank(ctx, sk, 0, -store.Keep-1)
			p.SAdd(ctx, s.checksKey(), r.Key())
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("redisstore: put %d results: %w", len(rs), err))
	}
	return errors.Join(errs...)
}

// RecentResults returns up to n newest results of key, newest first.
func (s *Store) RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	members, err := s.client.ZRevRange(ctx, s.resultsKey(key), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: recent results %s: %w", key, err)
	}
	out := make([]checks.Result, len(members))
	for i, m := range members {
		if err := json.Unmarshal([]byte(m), &out[i]); err != nil {
			return nil, fmt.Errorf("redisstore: decode result of %s: %w", key, err)
		}
	}
	return out, nil
}

// LatestResults returns the newest result of every check, ordered by key:
// the check index, then the head of every check's set in one pipeline.
func (s *Store) LatestResults(ctx context.Context) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, err := s.client.SMembers(ctx, s.checksKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: latest results: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	slices.Sort(keys)
	cmds := make([]*redis.StringSliceCmd, len(keys))
	_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.ZRevRange(ctx, s.resultsKey(k), 0, 0)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: latest results: %w", err)
	}
	out := make([]checks.Result, 0, len(keys))
	var damage store.Damage
	for i, cmd := range cmds {
		head := cmd.Val()
		if len(head) == 0 {
			continue // indexed, but its results were deleted by hand
		}
		var r checks.Result
		if err := json.Unmarshal([]byte(head[0]), &r); err != nil {
			damage.Add(keys[i], err)
			continue
		}
		out = append(out, r)
	}
	return out, damage.Err()
}

// DeleteResults forgets every result of keys and their index entries in
// one pipelined round trip.
func (s *Store) DeleteResults(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, s.resultsKey(k), s.statusesKey(k))
			p.SRem(ctx, s.checksKey(), k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: delete results: %w", err)
	}
	return nil
}

// RecentStatuses reads every check's history in one pipeline.
func (s *Store) RecentStatuses(ctx context.Context) (map[string][]checks.Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys, err := s.client.SMembers(ctx, s.checksKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: recent statuses: %w", err)
	}
	cmds := make([]*redis.StringSliceCmd, len(keys))
	if len(keys) > 0 {
		_, err = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.ZRevRange(ctx, s.statusesKey(k), 0, store.Keep-1)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("redisstore: recent statuses: %w", err)
		}
	}
	out := make(map[string][]checks.Status, len(keys))
	for i, cmd := range cmds {
		members := cmd.Val()
		if len(members) == 0 {
			continue
		}
		st := make([]checks.Status, 0, len(members))
		for _, m := range members {
			_, status, _ := strings.Cut(m, ":")
			st = append(st, checks.Status(status))
		}
		out[keys[i]] = st
	}
	return out, nil
}
