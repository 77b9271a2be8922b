package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/checks"
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

// A value in Redis that does not decode (another version's, or written by
// hand) leaves out only its check from LatestResults, with a
// *store.DamagedError naming it, instead of failing the read of every
// check.
func TestLatestResultsSkipsAValueThatDoesNotDecode(t *testing.T) {
	client, prefix := storetest.Redis(t)
	s := redisstore.New(client, prefix)
	ctx := context.Background()
	good, bad := storetest.Full(), storetest.Full()
	bad.Check = "billing-account"
	if err := s.PutResults(ctx, []checks.Result{good, bad}); err != nil {
		t.Fatal(err)
	}
	// Newer than bad's result, so it is the head LatestResults decodes.
	garbage := redis.Z{Score: float64(bad.Started.Add(time.Minute).UnixMicro()), Member: "{not a result"}
	if err := client.ZAdd(ctx, prefix+"results:{"+bad.Key()+"}", garbage).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestResults(ctx)
	var d *store.DamagedError
	if !errors.As(err, &d) || !slices.Equal(d.Keys, []string{bad.Key()}) {
		t.Fatalf("LatestResults error = %v, want a *store.DamagedError naming only %s", err, bad.Key())
	}
	if len(got) != 1 || got[0].Key() != good.Key() {
		t.Errorf("LatestResults = %d results, want only %s's", len(got), good.Key())
	}
}
