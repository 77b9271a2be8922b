package tokencache_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// One Cluster and one Sentinel group for the package's tests, started by
// the first that asks.
var (
	sharedCluster  = storetest.NewShared(storetest.NewCluster, "redis-server", "redis-cli")
	sharedSentinel = storetest.NewShared(storetest.NewSentinel, "redis-server")
)

func init() {
	backends = append(backends,
		backend{"redis-cluster", func(t *testing.T) (store.KV, store.Claims) {
			c := sharedCluster.Get(t)
			s := openStore(t, redisstore.Options{Addrs: c.Addrs})
			return s, s
		}},
		backend{"redis-sentinel", func(t *testing.T) (store.KV, store.Claims) {
			sg := sharedSentinel.Get(t)
			s := openStore(t, redisstore.Options{Addrs: sg.Sentinels, MasterName: sg.MasterName, WaitReplicas: 1})
			return s, s
		}},
	)
}

// openStore opens a store on a deployment under a prefix of its own,
// closed at cleanup.
func openStore(t testing.TB, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	opts.KeyPrefix = storetest.NewPrefix()
	s, err := redisstore.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{}) // every Sentinel lookup logs a line
	code := m.Run()
	for _, c := range []interface{ Close() error }{sharedCluster, sharedSentinel} {
		if err := c.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping test redis servers:", err)
			code = 1
		}
	}
	os.Exit(code)
}
