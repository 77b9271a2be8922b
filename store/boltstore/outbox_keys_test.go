package boltstore

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/storetest"
)

// checkShortKeys plants key, shorter than a time key or not, in the
// outbox_ready and outbox_delivered_at buckets of an outbox that has
// delivered one entry and holds another, enqueues a third, and holds the
// store to: Lease and Ack neither panic nor fail, and the two entries are
// handed out and acked.
func checkShortKeys(t *testing.T, s *Store, key []byte) {
	t.Helper()
	ctx := context.Background()
	first, held, later := storetest.Entry("g1", 0), storetest.Entry("g2", 0), storetest.Entry("g3", 0)
	for _, e := range []store.OutboxEntry{first, held} {
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Lease(ctx, "owner", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, first.ID, "owner"); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketOutboxReady).Put(key, []byte{}); err != nil {
			return err
		}
		return tx.Bucket(bucketOutboxDeliveredAt).Put(key, []byte{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, later); err != nil {
		t.Fatal(err)
	}

	got, err := s.Lease(ctx, "owner", 10, time.Minute)
	if err != nil {
		t.Fatalf("Lease beside a damaged key %q: %v", key, err)
	}
	if ids := entryIDs(got); !slices.Equal(ids, []string{held.ID, later.ID}) {
		t.Fatalf("Lease = %q, want %s and %s", ids, held.ID, later.ID)
	}
	for _, e := range got {
		if err := s.Ack(ctx, e.ID, "owner"); err != nil {
			t.Fatalf("Ack(%s) beside a damaged key %q: %v", e.ID, key, err)
		}
	}
	if n, err := s.Depth(ctx); err != nil || n != 0 {
		t.Fatalf("Depth = %d, %v; want 0", n, err)
	}
}

func entryIDs(es []store.OutboxEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// A key of the outbox_ready or outbox_delivered_at bucket shorter than
// the time it must start with (a damaged bolt file) panicked the daemon
// in every Lease, or in the Ack that sweeps old acks, slicing it. Now
// such a key, which indexes nothing, is dropped.
func TestOutboxPastShortIndexKeys(t *testing.T) {
	for _, key := range [][]byte{{0}, []byte("g1"), make([]byte, timeKeyLen-1)} {
		s := openOnClock(t, filepath.Join(t.TempDir(), "credmon.db"), storetest.NewClock())
		checkShortKeys(t, s, key)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzOutboxIndexKey plants arbitrary bytes as a key of the outbox_ready
// and outbox_delivered_at buckets (a damaged or hostile bolt file) and
// holds the store to checkShortKeys: whatever the key, Lease and Ack
// neither panic nor fail, and each entry is handed out once.
func FuzzOutboxIndexKey(f *testing.F) {
	s := openOnClock(f, filepath.Join(f.TempDir(), "credmon.db"), storetest.NewClock())
	f.Cleanup(func() { s.Close() })
	s.db.NoSync = true // a throwaway file: no fsync per call, many more execs
	f.Add([]byte{0})
	f.Add(make([]byte, timeKeyLen-1))
	f.Add(append(timeKey(time.Unix(0, 0)), "g2"...)) // another ready key of a group that has one
	f.Add(append(timeKey(time.Unix(0, 0)), "gone"...))
	f.Add(append(timeKey(time.Unix(0, 0)), storetest.Entry("g2", 0).ID...))
	f.Fuzz(func(t *testing.T, key []byte) {
		if len(key) == 0 || len(key) > bolt.MaxKeySize {
			t.Skip("bolt stores no such key")
		}
		emptyOutbox(t, s)
		checkShortKeys(t, s, key)
	})
}
