package boltstore

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store/storetest"
)

// FuzzOutboxEntry feeds arbitrary bytes as the stored record of one
// group's head entry (a damaged or hostile bolt file) and holds the store
// to storetest.CheckDamagedEntry: Lease never panics or fails for the
// other groups, names the damaged entry, and what it hands out can be
// acked.
func FuzzOutboxEntry(f *testing.F) {
	s := openOnClock(f, filepath.Join(f.TempDir(), "credmon.db"), storetest.NewClock())
	f.Cleanup(func() { s.Close() })
	s.db.NoSync = true // a throwaway file: no fsync per call, many more execs
	plant := func(id string, raw []byte) (old []byte, err error) {
		err = s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketOutboxEntries)
			old = bytes.Clone(b.Get([]byte(id)))
			return b.Put([]byte(id), raw)
		})
		return old, err
	}

	// The record Enqueue writes for the damaged head, as written.
	if err := s.Enqueue(context.Background(), storetest.Entry("g1", 0)); err != nil {
		f.Fatal(err)
	}
	valid, err := plant(storetest.DamagedHead, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, raw := range []string{
		`{"entry":{"id":"g1#0","group":"g2"},"seq":1}`,  // another group's
		`{"entry":{"id":"other","group":"g1"},"seq":1}`, // another entry's
		`{"entry":{"id":"g1#0","group":"g1"},"seq":7}`,  // another place in the queue
		`{"entry":{"id":"g1#0","group":"g1","payload":"not base64"},"seq":1}`,
		`{"entry":`,
		`null`,
		``,
	} {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		emptyOutbox(t, s)
		storetest.CheckDamagedEntry(t, s, plant, raw)
	})
}

// emptyOutbox deletes every outbox bucket of s, for the next fuzz input.
func emptyOutbox(tb testing.TB, s *Store) {
	tb.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketOutboxEntries, bucketOutboxQueue, bucketOutboxReady, bucketOutboxGroups, bucketOutboxDelivered, bucketOutboxDeliveredAt} {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}
