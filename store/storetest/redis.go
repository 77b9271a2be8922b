package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisURL is used when REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379"

// RedisURL is REDIS_URL, or DefaultRedisURL when it is unset: the Redis
// every test that talks to the shared one uses.
func RedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

// Redis connects to the real Redis at REDIS_URL and returns a client and a
// key prefix of its own ("credmon-test:<random>:"). Every key under the
// prefix is deleted at cleanup. Without a reachable Redis the test is
// skipped, unless CI=true, where a missing Redis is a failure.
func Redis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("REDIS_URL is not a redis URL: %v", err)
	}
	// No retries for the first ping: an absent Redis should skip at once,
	// not after backoff. The tests then get the client's usual retries, as
	// credmon's own has: one connection lost under a loaded machine is
	// not what they test.
	probe := *opts
	probe.MaxRetries = -1
	probe.DialerRetries = 1
	pinger := redis.NewClient(&probe)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = pinger.Ping(ctx).Err()
	pinger.Close()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis at %s does not answer (CI=true requires it): %v", opts.Addr, err)
		}
		t.Skipf("redis at %s does not answer, skipping (start redis or set REDIS_URL; with CI=true this fails): %v", opts.Addr, err)
	}
	client := redis.NewClient(opts)
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "credmon-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		// A fresh context: the test's own may be cancelled by now.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, client, prefix); err != nil {
			t.Errorf("cleaning up redis keys %s*: %v", prefix, err)
		}
		client.Close()
	})
	return client, prefix
}

// DeletePrefix deletes every key starting with prefix, on every master of
// a cluster.
func DeletePrefix(ctx context.Context, client redis.UniversalClient, prefix string) error {
	del := func(ctx context.Context, c redis.Cmdable) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			// One key per DEL: keys of a cluster may live in different slots.
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := client.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return del(ctx, c) })
	}
	return del(ctx, client)
}

// DeletePrefixAt deletes every key under prefix in the Redis at url; for
// programs (benchmarks) that leave no keys behind in a shared Redis.
func DeletePrefixAt(ctx context.Context, url, prefix string) error {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return err
	}
	c := redis.NewClient(opts)
	defer c.Close()
	return DeletePrefix(ctx, c, prefix)
}
