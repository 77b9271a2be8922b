package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// plantHeartbeat returns a plant for storetest.CheckDamagedHeartbeat: it
// replaces the value in the heartbeats' hash, leaving the expiry set.
func plantHeartbeat(client redis.UniversalClient, prefix string) func(id string, raw []byte) ([]byte, error) {
	data := prefix + "instances:{replicas}:data"
	return func(id string, raw []byte) ([]byte, error) {
		ctx := context.Background()
		old, err := client.HGet(ctx, data, id).Bytes()
		if err != nil {
			return nil, err
		}
		return old, client.HSet(ctx, data, id, raw).Err()
	}
}

// One replica's heartbeat that does not read failed Instances for every
// replica, with an error that did not say whose.
func TestInstancesPastADamagedHeartbeat(t *testing.T) {
	client, prefix := storetest.Redis(t)
	s := redisstore.New(client, prefix)
	storetest.CheckDamagedHeartbeat(t, s, plantHeartbeat(client, prefix), []byte(`{"id":"replica-b","started":"yesterday"}`))
}

// FuzzHeartbeat feeds arbitrary bytes as one replica's stored heartbeat
// in a real Redis and holds the store to storetest.CheckDamagedHeartbeat.
func FuzzHeartbeat(f *testing.F) {
	client, prefix := storetest.Redis(f)
	s := redisstore.New(client, prefix)
	for _, raw := range storetest.HeartbeatSeeds {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := storetest.DeletePrefix(context.Background(), client, prefix); err != nil {
			t.Fatal(err)
		}
		storetest.CheckDamagedHeartbeat(t, s, plantHeartbeat(client, prefix), raw)
	})
}
