package redisstore_test

import (
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestSentinel runs every contract suite through real Sentinels: Open
// with the sentinels' addrs and a master name finds the master and
// writes there.
func TestSentinel(t *testing.T) {
	s := storetest.StartSentinel(t)
	t.Logf("master, replica and %d sentinels ready in %v", len(s.Sentinels), s.Ready)
	opts := redisstore.Options{Addrs: s.Sentinels, MasterName: s.MasterName}

	t.Run("OpenPicksTheMaster", func(t *testing.T) {
		o := opts
		o.KeyPrefix = storetest.NewPrefix()
		st := mustOpen(t, o)
		defer st.Close()
		c, ok := redisstore.Client(st.Store).(*redis.Client)
		if !ok {
			t.Fatalf("Open with sentinels made a %T, want a failover *redis.Client", redisstore.Client(st.Store))
		}
		role, err := c.Do(t.Context(), "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			t.Fatalf("the store's server has ROLE %v, %v; want master", role, err)
		}
		if err := st.Set(t.Context(), "k", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		// Written to the master the sentinels name, not to the replica.
		master := redis.NewClient(&redis.Options{Addr: s.Data[0]})
		defer master.Close()
		if got, err := master.Get(t.Context(), o.KeyPrefix+"kv:k").Result(); err != nil || got != "v" {
			t.Errorf("master %s has %q, %v; want v", s.Data[0], got, err)
		}
	})
	t.Run("PingCountsReplicas", func(t *testing.T) {
		for wait, want := range map[int]bool{1: true, 2: false} {
			o := opts
			o.KeyPrefix, o.WaitReplicas = storetest.NewPrefix(), wait
			st := mustOpen(t, o)
			if err := st.Ping(t.Context()); (err == nil) != want {
				t.Errorf("Ping with WaitReplicas %d and one replica = %v, want ok %v", wait, err, want)
			}
			st.Close()
		}
	})
	t.Run("Plain", func(t *testing.T) { runSuites(t, opts) })
	// Every guarded write, each script's first run (NOSCRIPT, then EVAL)
	// included, confirmed by the replica.
	t.Run("WaitReplicas", func(t *testing.T) {
		o := opts
		o.WaitReplicas = 1
		runSuites(t, o)
	})
}

// BenchmarkSentinelOutbox is the cost of waiting for the replica: one
// message's Enqueue, Lease and Ack through Sentinel, with and without
// WaitReplicas.
func BenchmarkSentinelOutbox(b *testing.B) {
	sg := storetest.StartSentinel(b)
	for _, wait := range []int{0, 1} {
		b.Run(fmt.Sprintf("wait_replicas=%d", wait), func(b *testing.B) {
			s, err := redisstore.Open(b.Context(), redisstore.Options{
				Addrs: sg.Sentinels, MasterName: sg.MasterName, KeyPrefix: storetest.NewPrefix(), WaitReplicas: wait,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchOutbox(b, s)
		})
	}
}
