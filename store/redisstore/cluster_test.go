package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestCluster runs every contract suite against a real three-master
// Cluster: a script whose keys spanned slots would fail with CROSSSLOT,
// and a read of one node only (SCAN) would miss keys.
func TestCluster(t *testing.T) {
	c := storetest.StartCluster(t)
	t.Logf("cluster of %d masters ready in %v", len(c.Addrs), c.Ready)
	opts := redisstore.Options{Addrs: c.Addrs}

	t.Run("OpenPicksCluster", func(t *testing.T) {
		o := opts
		o.KeyPrefix = storetest.NewPrefix()
		s := mustOpen(t, o)
		defer s.Close()
		if _, ok := redisstore.Client(s.Store).(*redis.ClusterClient); !ok {
			t.Fatalf("Open with %d addrs made a %T, want a *redis.ClusterClient", len(o.Addrs), redisstore.Client(s.Store))
		}
	})
	// The suites prove something only if keys really sit on several
	// nodes: results of different checks hash to different slots.
	t.Run("KeysSpreadOverMasters", func(t *testing.T) {
		o := opts
		o.KeyPrefix = storetest.NewPrefix()
		s := mustOpen(t, o)
		defer s.Close()
		ctx := t.Context()
		for i := range 30 {
			if err := s.PutResult(ctx, storetest.Result("prod", fmt.Sprintf("check-%d", i), 0)); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		holding := 0
		err := redisstore.Client(s.Store).(*redis.ClusterClient).ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			keys, _, err := c.Scan(ctx, 0, o.KeyPrefix+"*", 1000).Result()
			if len(keys) > 0 {
				mu.Lock()
				holding++
				mu.Unlock()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if holding < 2 {
			t.Errorf("keys of 30 checks on %d master(s), want them spread over several", holding)
		}
	})
	runSuites(t, opts)
}
