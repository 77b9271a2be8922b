package boltstore

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store/storetest"
)

// plantHeartbeat returns a plant for storetest.CheckDamagedHeartbeat: it
// keeps the stored heartbeat's seal (its expiry) and replaces the value.
func plantHeartbeat(s *Store) func(id string, raw []byte) ([]byte, error) {
	return func(id string, raw []byte) (old []byte, err error) {
		err = s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketInstances)
			sealed := bytes.Clone(b.Get([]byte(id)))
			old = sealed[8:]
			return b.Put([]byte(id), append(sealed[:8:8], raw...))
		})
		return old, err
	}
}

// One replica's heartbeat that does not read failed Instances for every
// replica: the daemon heard no replica at all, and the page listed none.
func TestInstancesPastADamagedHeartbeat(t *testing.T) {
	s := openOnClock(t, filepath.Join(t.TempDir(), "credmon.db"), storetest.NewClock())
	defer s.Close()
	storetest.CheckDamagedHeartbeat(t, s, plantHeartbeat(s), []byte(`{"id":"replica-b","started":"yesterday"}`))
}

// FuzzHeartbeat feeds arbitrary bytes as one replica's stored heartbeat
// (a damaged or hostile bolt file) and holds the store to
// storetest.CheckDamagedHeartbeat.
func FuzzHeartbeat(f *testing.F) {
	s := openOnClock(f, filepath.Join(f.TempDir(), "credmon.db"), storetest.NewClock())
	f.Cleanup(func() { s.Close() })
	s.db.NoSync = true // a throwaway file: no fsync per call, many more execs
	for _, raw := range storetest.HeartbeatSeeds {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketInstances) }); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			t.Fatal(err)
		}
		storetest.CheckDamagedHeartbeat(t, s, plantHeartbeat(s), raw)
	})
}
