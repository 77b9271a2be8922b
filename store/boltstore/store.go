// Package boltstore is the embedded store, the default: one bbolt file
// holding credmon's state for a single instance across restarts.
package boltstore

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
)

var _ store.Store = (*Store)(nil)

// DefaultLockTimeout is how long Open waits for another process to release
// the file before giving up.
const DefaultLockTimeout = time.Second

// Store is a bbolt-backed store. It is safe for concurrent use; bbolt
// allows one writer at a time and readers alongside it.
type Store struct {
	db  *bolt.DB
	now func() time.Time // TTL, lease and due-time clock (kv.go); nil means time.Now
}

// Open opens or creates the database at path (mode 0600: results name
// credentials and, later, tokens live here). A file held by another process
// fails after DefaultLockTimeout instead of hanging.
func Open(path string) (*Store, error) {
	return OpenTimeout(path, DefaultLockTimeout)
}

// OpenTimeout is Open with a chosen wait for the file lock.
func OpenTimeout(path string, lockTimeout time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: %s is locked by another process (another credmon with the same store.path? use the redis store to run replicas): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return convertResults(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: init %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// topBuckets are created on Open so transactions can rely on them.
var topBuckets = [][]byte{bucketHistory}

// Close closes the file and releases its lock.
func (s *Store) Close() error { return s.db.Close() }
