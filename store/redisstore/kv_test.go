package redisstore_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

func TestCoordination(t *testing.T) {
	storetest.RunCoordination(t, func(t *testing.T) store.Store {
		client, prefix := storetest.Redis(t)
		return redisstore.New(client, prefix)
	})
}

// A store prefix with glob characters must not let Scan see another
// prefix's keys: "p[1]:" as a pattern would match "p1:".
func TestScanEscapesStorePrefix(t *testing.T) {
	client, prefix := storetest.Redis(t)
	ctx := t.Context()
	globbed := redisstore.New(client, prefix+"p[1]:")
	plain := redisstore.New(client, prefix+"p1:")
	starred := redisstore.New(client, prefix+"p*:")
	for _, s := range []*redisstore.Store{globbed, plain, starred} {
		if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := plain.Set(ctx, "only-plain", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*redisstore.Store{"p[1]:": globbed, "p*:": starred} {
		got, err := s.Scan(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string][]byte{"k": []byte("v")}; !reflect.DeepEqual(got, want) {
			t.Errorf("prefix %s: Scan = %q, want only its own key k", name, got)
		}
	}
}

func TestCoordinationKeysUnderPrefix(t *testing.T) {
	client, prefix := storetest.Redis(t)
	s := redisstore.New(client, prefix)
	ctx := t.Context()
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "c", "o", storetest.LongTTL); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, store.Instance{ID: "r"}, storetest.LongTTL); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{prefix + "claim:c", prefix + "instances:{replicas}:data", prefix + "instances:{replicas}:expiry", prefix + "kv:k"}
	slices.Sort(keys)
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	// Claims and heartbeats expire in Redis itself.
	for _, k := range []string{prefix + "claim:c", prefix + "instances:{replicas}:expiry"} {
		if ttl, err := client.PTTL(ctx, k).Result(); err != nil || ttl <= 0 {
			t.Errorf("PTTL %s = %v, %v; want a ttl", k, ttl, err)
		}
	}
}

func TestPing(t *testing.T) {
	client, prefix := storetest.Redis(t)
	if err := redisstore.New(client, prefix).Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
