package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Values reads every key under prefix, whatever its Redis type, and
// returns each key's contents: a string's value, a hash's fields and
// values, the members of a set, sorted set or list. Leak tests search them
// for what must never be stored.
func Values(ctx context.Context, client redis.UniversalClient, prefix string) (map[string][]string, error) {
	var mu sync.Mutex // ForEachMaster reads the masters concurrently
	out := map[string][]string{}
	read := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			typ, err := c.Type(ctx, k).Result()
			if err != nil {
				return err
			}
			var vals []string
			switch typ {
			case "string":
				var v string
				v, err = c.Get(ctx, k).Result()
				vals = []string{v}
			case "hash":
				var m map[string]string
				m, err = c.HGetAll(ctx, k).Result()
				for f, v := range m {
					vals = append(vals, f, v)
				}
			case "zset":
				vals, err = c.ZRange(ctx, k, 0, -1).Result()
			case "set":
				vals, err = c.SMembers(ctx, k).Result()
			case "list":
				vals, err = c.LRange(ctx, k, 0, -1).Result()
			case "none":
				continue // expired between SCAN and TYPE
			default:
				return fmt.Errorf("key %s has type %s, which Values cannot read", k, typ)
			}
			if errors.Is(err, redis.Nil) {
				continue // expired between TYPE and the read
			}
			if err != nil {
				return err
			}
			mu.Lock()
			out[k] = vals
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return read(ctx, c) })
	} else {
		err = read(ctx, client)
	}
	return out, err
}
