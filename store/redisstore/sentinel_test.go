package redisstore_test

import (
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
	runSuites(t, opts)
}
