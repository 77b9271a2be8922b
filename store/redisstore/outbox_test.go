package redisstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// replicated is a store that can open another replica on its Redis and
// prefix, for the suite's two-replica drain.
type replicated struct {
	*redisstore.Store
	client redis.UniversalClient
	prefix string
}

func (r replicated) Replica(*testing.T) store.Store { return redisstore.New(r.client, r.prefix) }

func TestOutbox(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) store.Store {
		client, prefix := storetest.Redis(t)
		return replicated{redisstore.New(client, prefix), client, prefix}
	})
}

func TestOutboxKeysShareOneSlot(t *testing.T) {
	client, prefix := storetest.Redis(t)
	s := redisstore.New(client, prefix)
	ctx := context.Background()
	for _, e := range []store.OutboxEntry{storetest.Entry("prod/api/unauthorized", 0), storetest.Entry("dev/{x}", 0)} {
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{
		prefix + "outbox:{outbox}:entries",
		prefix + "outbox:{outbox}:group:dev/{x}",
		prefix + "outbox:{outbox}:group:prod/api/unauthorized",
		prefix + "outbox:{outbox}:ready",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	// Cluster hashes the first {…} of a key: a group with braces of its
	// own must still hash on {outbox}, so scripts touch one slot.
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		l, r := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}')
		if l < 0 || r < l || rest[l+1:r] != "outbox" {
			t.Errorf("%s does not hash on {outbox}", k)
		}
	}
}

func TestOutboxLeaseExpiryInReadySet(t *testing.T) {
	// The ready score of a leased group is its lease expiry in the
	// server's Unix ms (TIME), so replicas with skewed clocks agree on it;
	// while it lasts, another replica gets nothing.
	client, prefix := storetest.Redis(t)
	a, b := redisstore.New(client, prefix), redisstore.New(client, prefix)
	ctx := context.Background()
	if err := a.Enqueue(ctx, storetest.Entry("g", 0)); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Lease(ctx, "replica-a", 1, time.Hour); err != nil || len(got) != 1 {
		t.Fatalf("Lease = %v, %v", got, err)
	}
	score, err := client.ZScore(ctx, prefix+"outbox:{outbox}:ready", "g").Result()
	if err != nil {
		t.Fatal(err)
	}
	server, err := client.Time(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if exp := time.UnixMilli(int64(score)); exp.Before(server.Add(59*time.Minute)) || exp.After(server.Add(61*time.Minute)) {
		t.Errorf("lease expires at %v, want about an hour after the server's %v", exp, server)
	}
	if got, err := b.Lease(ctx, "replica-b", 1, time.Hour); err != nil || len(got) != 0 {
		t.Errorf("replica-b leased %v, %v during replica-a's lease", got, err)
	}
}

func BenchmarkOutbox(b *testing.B) {
	client, prefix := storetest.Redis(b)
	storetest.BenchOutbox(b, redisstore.New(client, prefix))
}
