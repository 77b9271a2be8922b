package redisstore_test

import (
	"context"
	"testing"

	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// FuzzOutboxEntry feeds arbitrary bytes as the stored record of one
// group's head entry in a real Redis (a value damaged, or written by hand
// or by another version) and holds the store to
// storetest.CheckDamagedEntry: no script fails for it, Lease hands out
// the other groups' entries and names the damaged one, and what it hands
// out can be acked.
func FuzzOutboxEntry(f *testing.F) {
	client, prefix := storetest.Redis(f)
	ctx := context.Background()
	s := redisstore.New(client, prefix)
	entries := prefix + "outbox:{outbox}:entries"
	plant := func(id string, raw []byte) ([]byte, error) {
		old, err := client.HGet(ctx, entries, id).Bytes()
		if err != nil {
			return nil, err
		}
		return old, client.HSet(ctx, entries, id, raw).Err()
	}

	// The record Enqueue writes for the damaged head, as written.
	if err := s.Enqueue(ctx, storetest.Entry("g1", 0)); err != nil {
		f.Fatal(err)
	}
	valid, err := client.HGet(ctx, entries, storetest.DamagedHead).Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, raw := range []string{
		`{"e":"{\"id\":\"g1#0\",\"group\":\"g1\"}","g":"g2","a":0,"n":"","nb":0,"o":"","u":0}`,      // queued in another group's list
		`{"e":"{\"id\":\"other\",\"group\":\"g1\"}","g":"g1","a":0,"n":"","nb":0,"o":"","u":0}`,     // another entry's
		`{"e":"{\"id\":\"g1#0\",\"group\":\"g1\"}","g":"g1","a":0,"n":"","nb":0,"o":"x","u":1e999}`, // a lease no score holds
		`{"e":"{\"id\":\"g1#0\",\"group\":\"g1\"}","g":"g1","a":0.5,"n":"","nb":0,"o":"","u":0}`,
		`{"e":"{\"id\":\"g1#0\",\"group\":\"g1\"}","g":"g1","a":0,"n":"yesterday","nb":0,"o":"","u":0}`,
		`{"e":"{","g":"g1","a":0,"n":"","nb":0,"o":"","u":0}`,
		`{"g":"g1"}`,
		`[]`,
		`7`,
		``,
	} {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := storetest.DeletePrefix(ctx, client, prefix); err != nil {
			t.Fatal(err)
		}
		storetest.CheckDamagedEntry(t, s, plant, raw)
	})
}
