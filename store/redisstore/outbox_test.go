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

// TestOutboxDueOnTheServersClock: a replica whose clock is an hour off
// from Redis's still gets its deferred entries back when it asked for
// them, neither an hour early nor an hour late, because the outbox keeps
// one clock, the server's, and a NotBefore travels as a delay.
func TestOutboxDueOnTheServersClock(t *testing.T) {
	for _, skew := range []time.Duration{time.Hour, -time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			client, prefix := storetest.Redis(t)
			s := redisstore.New(client, prefix)
			redisstore.SetClock(s, func() time.Time { return time.Now().Add(skew) })
			ctx := context.Background()
			e := storetest.Entry("prod/api/unauthorized", 0)
			e.NotBefore = time.Now().Add(skew).Add(10 * time.Minute)
			if err := s.Enqueue(ctx, e); err != nil {
				t.Fatal(err)
			}
			// Ten minutes from now on the replica's clock is not due yet,
			// whichever way that clock is off.
			if got, err := s.Lease(ctx, "replica-a", 1, time.Minute); err != nil || len(got) != 0 {
				t.Fatalf("lease of an entry due in 10m on the caller's clock = %d entries, %v; want none", len(got), err)
			}

			f := storetest.Entry("prod/billing/unauthorized", 0)
			if err := s.Enqueue(ctx, f); err != nil {
				t.Fatal(err)
			}
			got, err := s.Lease(ctx, "replica-a", 2, time.Minute)
			if err != nil || len(got) != 1 || got[0].ID != f.ID {
				t.Fatalf("lease = %v, %v; want only %s", got, err, f.ID)
			}
			// Deferred for 20 ms of the replica's clock: due again in
			// 20 ms of the server's. Polled with a hang guard: an hour off
			// would never come back within it.
			if err := s.Defer(ctx, f.ID, "replica-a", time.Now().Add(skew).Add(20*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			guard := time.After(10 * time.Second)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				got, err := s.Lease(ctx, "replica-a", 2, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 1 && got[0].ID == f.ID {
					if got[0].Attempts != 1 {
						t.Errorf("attempts = %d, want 1", got[0].Attempts)
					}
					return
				}
				if len(got) != 0 {
					t.Fatalf("lease = %v; want only %s", got, f.ID)
				}
				select {
				case <-guard:
					t.Fatal("an entry deferred for 20ms by a skewed replica was not due again within 10s")
				case <-tick.C:
				}
			}
		})
	}
}
