package fallback_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestRedisOutage kills a real Redis under the store and brings it back:
// claims are granted locally meanwhile, and what was enqueued and
// recorded during the outage reaches the new Redis.
func TestRedisOutage(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	ctx := t.Context()
	const prefix = "credmon-test:"
	primary, err := redisstore.Open(ctx, redisstore.Options{URL: srv.URL(), KeyPrefix: prefix, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	changes := newChanges()
	s := fallback.New(primary, memstore.New(), fallback.Options{
		ProbeEvery: 100 * time.Millisecond, OnChange: changes.record, Logger: discard,
		Unreachable: redisstore.Unreachable, Uncertain: redisstore.Uncertain, // as the daemon builds it
	})
	t.Cleanup(func() { s.Close() })
	s.Start(ctx)

	const tick = "tick:prod/api:1741944360"
	if ok, err := s.Claim(ctx, tick, "replica-a", time.Minute); !ok || err != nil {
		t.Fatalf("Claim with Redis up = %v, %v", ok, err)
	}
	if ok, err := s.Claim(ctx, tick, "replica-b", time.Minute); ok || err != nil {
		t.Fatalf("second owner's Claim with Redis up = %v, %v; want refused by Redis", ok, err)
	}

	srv.Kill()
	if up := changes.wait(t); up || s.Healthy() {
		t.Fatalf("after the kill: change up=%v, Healthy=%v; want down", up, s.Healthy())
	}
	// Redis held replica-a's claim; with Redis gone this replica probes on
	// its own.
	if ok, err := s.Claim(ctx, tick, "replica-b", time.Minute); !ok || err != nil {
		t.Fatalf("Claim during the outage = %v, %v; want granted locally", ok, err)
	}
	a1, a2 := storetest.Entry("incident-a", 1), storetest.Entry("incident-a", 2)
	for _, e := range []store.OutboxEntry{a1, a2} {
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatalf("Enqueue during the outage: %v", err)
		}
	}
	r := storetest.Result("prod", "api", 0)
	if err := s.PutResult(ctx, r); err != nil {
		t.Fatalf("PutResult during the outage: %v", err)
	}

	restart(t, srv) // same port, empty
	if up := changes.wait(t); !up || !s.Healthy() {
		t.Fatalf("after the restart: change up=%v, Healthy=%v; want up", up, s.Healthy())
	}

	// Read the new Redis through a store of its own, not the wrapper.
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { client.Close() })
	direct := redisstore.New(client, prefix)
	if n, err := direct.Depth(ctx); n != 2 || err != nil {
		t.Errorf("Redis outbox depth after recovery = %d, %v; want the 2 entries from the outage", n, err)
	}
	es, err := direct.Lease(ctx, "notifier", 10, time.Minute)
	if err != nil || len(es) != 1 || es[0].ID != a1.ID || string(es[0].Payload) != string(a1.Payload) {
		t.Errorf("first lease from Redis = %+v, %v; want %s (the group's head)", es, err, a1.ID)
	}
	if got, err := direct.RecentResults(ctx, r.Key(), 10); err != nil || len(got) != 1 || got[0].Detail != r.Detail {
		t.Errorf("Redis results after recovery = %+v, %v; want the outage's result", got, err)
	}
	// Claims are Redis's again.
	if ok, err := s.Claim(ctx, "tick:prod/api:1741944420", "replica-a", time.Minute); !ok || err != nil {
		t.Errorf("Claim after recovery = %v, %v", ok, err)
	}
	if ok, err := direct.Claim(ctx, "tick:prod/api:1741944420", "replica-c", time.Minute); ok || err != nil {
		t.Errorf("another replica's Claim after recovery = %v, %v; want refused (the wrapper claimed in Redis)", ok, err)
	}
	if err := s.Stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Stop: %v", err)
	}
}

func restart(t *testing.T, srv *storetest.RedisServer) {
	t.Helper()
	if err := srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// freeze stops the server (SIGSTOP) until thaw, or until the test ends.
func freeze(t *testing.T, srv *storetest.RedisServer) {
	t.Helper()
	if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Thaw() })
}

func thaw(t *testing.T, srv *storetest.RedisServer) {
	t.Helper()
	if err := srv.Thaw(); err != nil {
		t.Fatal(err)
	}
}
