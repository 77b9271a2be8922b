package fallback_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestUnconfirmedEnqueueIsDeliveredOnce: a real master and replica, the
// store waiting for the replica (WaitReplicas 1) as a Sentinel setup runs
// it. With the replica frozen the master takes an Enqueue its replica
// never confirms (ErrNotReplicated): the fallback marks Redis down and
// keeps a copy locally, but holds it (Options.UncertainHold) instead of
// delivering it from there, since the master has one too. When the
// replica is back another replica of credmon delivers the master's copy;
// the held copy, moved in after its hold, is not delivered again.
func TestUnconfirmedEnqueueIsDeliveredOnce(t *testing.T) {
	ctx := t.Context()
	master, replica := storetest.StartRedisServer(t), storetest.StartRedisServer(t)
	host, port, _ := net.SplitHostPort(master.Addr())
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	t.Cleanup(func() { rc.Close() })
	if err := rc.Do(ctx, "replicaof", host, port).Err(); err != nil {
		t.Fatal(err)
	}
	mc := redis.NewClient(&redis.Options{Addr: master.Addr()})
	t.Cleanup(func() { mc.Close() })
	waitFor(t, "the replica in sync", func() bool {
		info, err := mc.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "connected_slaves:1") && strings.Contains(info, "state=online")
	})

	prefix := storetest.NewPrefix()
	primary, err := redisstore.Open(ctx, redisstore.Options{
		URL: master.URL(), KeyPrefix: prefix, WaitReplicas: 1, WaitTimeout: 100 * time.Millisecond,
		DialTimeout: time.Second, CommandTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	local := memstore.New()
	const hold = 2 * time.Second
	s := fallback.New(primary, local, fallback.Options{
		Logger: discard, Unreachable: redisstore.Unreachable, Uncertain: redisstore.Uncertain, UncertainHold: hold,
	})
	t.Cleanup(func() { s.Close() })

	freeze(t, replica)
	e := storetest.Entry("incident-a", 1)
	if err := s.Enqueue(ctx, e); err != nil {
		t.Fatalf("Enqueue with the replica frozen: %v", err)
	}
	if s.Healthy() {
		t.Fatal("Healthy after a write no replica confirmed; want marked down")
	}
	if got, err := s.Lease(ctx, "replica-a", 10, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("Lease during the outage = %q, %v; want nothing: the master has the entry, the local copy is held", ids(got), err)
	}

	thaw(t, replica)
	other := redisstore.New(mc, prefix) // another credmon replica, on the same master
	got, err := other.Lease(ctx, "replica-b", 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != e.ID {
		t.Fatalf("the other replica leased %q, %v; want the master's copy of %s", ids(got), err, e.ID)
	}
	if err := other.Ack(ctx, e.ID, "replica-b"); err != nil {
		t.Fatal(err)
	}

	// The probe catches up and, once the hold is over, moves the held
	// copy into Redis, which remembers it was delivered.
	waitFor(t, "the held copy moved out of the local outbox", func() bool {
		s.Probe(ctx)
		n, err := local.Depth(ctx)
		return err == nil && n == 0 && s.Healthy()
	})
	if got, err := other.Lease(ctx, "replica-b", 10, time.Minute); err != nil || len(got) != 0 {
		t.Errorf("after the move Redis handed out %q, %v; want nothing: %s was delivered", ids(got), err, e.ID)
	}
	if n, err := other.Depth(ctx); n != 0 || err != nil {
		t.Errorf("Redis outbox depth = %d, %v after the move; want 0", n, err)
	}
}

func ids(es []store.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// waitFor polls cond until it holds, failing the test after 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
