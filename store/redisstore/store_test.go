package redisstore_test

import (
	"context"
	"testing"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		client, prefix := storetest.Redis(t)
		return redisstore.New(client, prefix)
	})
}

func TestKeysUnderPrefix(t *testing.T) {
	client, prefix := storetest.Redis(t)
	s := redisstore.New(client, prefix)
	ctx := context.Background()
	if err := s.PutResult(ctx, storetest.Full()); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{prefix + "results:{prod/payments-account}": true, prefix + "statuses:{prod/payments-account}": true, prefix + "checks": true}
	if len(keys) != len(want) {
		t.Errorf("keys %q, want %d keys", keys, len(want))
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected key %q", k)
		}
	}
}

func TestCloseLeavesCallersClientOpen(t *testing.T) {
	client, prefix := storetest.Redis(t)
	if err := redisstore.New(client, prefix).Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(context.Background()).Err(); err != nil {
		t.Errorf("client unusable after Store.Close: %v", err)
	}
}

func BenchmarkPutResult(b *testing.B) {
	client, prefix := storetest.Redis(b)
	storetest.BenchPutResult(b, redisstore.New(client, prefix))
}

func BenchmarkLatestResults(b *testing.B) {
	client, prefix := storetest.Redis(b)
	storetest.BenchLatestResults(b, redisstore.New(client, prefix))
}
