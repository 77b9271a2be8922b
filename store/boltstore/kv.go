package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
)

// Layout: one bucket per concern — kv/<key>, claims/<key> (value: owner),
// instances/<id> (value: Instance JSON) — each value prefixed by its
// expiry (see seal). The buckets are made by the first write, so a store
// that never used them reads them as empty.
var (
	bucketKV        = []byte("kv")
	bucketClaims    = []byte("claims")
	bucketInstances = []byte("instances")
)

func (s *Store) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// seal prefixes val with its expiry: 8 bytes big-endian Unix nanoseconds,
// 0 for never. ttl <= 0 means never.
func seal(now time.Time, ttl time.Duration, val []byte) []byte {
	var exp int64
	if ttl > 0 {
		exp = now.Add(ttl).UnixNano()
	}
	out := make([]byte, 8, 8+len(val))
	binary.BigEndian.PutUint64(out, uint64(exp))
	return append(out, val...)
}

// unseal returns the value of a sealed record and whether it is still
// live at now. The value aliases raw: clone it before the transaction ends.
func unseal(raw []byte, now time.Time) ([]byte, bool) {
	if len(raw) < 8 {
		return nil, false // not written by seal: treat as absent
	}
	exp := int64(binary.BigEndian.Uint64(raw))
	return raw[8:], exp == 0 || now.UnixNano() < exp
}

// liveValue reads key from bucket name in tx: the value (aliasing the
// mmap) and whether it is present and unexpired.
func liveValue(tx *bolt.Tx, name, key []byte, now time.Time) ([]byte, bool) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, false
	}
	raw := b.Get(key)
	if raw == nil {
		return nil, false
	}
	return unseal(raw, now)
}

// dropExpired deletes keys of bucket name that are still expired: a value
// rewritten since it was seen expired is left alone.
func (s *Store) dropExpired(name []byte, keys ...[]byte) {
	// Best effort: a failure leaves an expired value that every read
	// already treats as absent.
	_ = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		now := s.clock()
		for _, k := range keys {
			if raw := b.Get(k); raw != nil {
				if _, ok := unseal(raw, now); !ok {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// Get returns the value of key, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		val     []byte
		found   bool
		expired bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		v, ok := liveValue(tx, bucketKV, []byte(key), s.clock())
		if ok {
			val, found = bytes.Clone(v), true
		} else {
			expired = v != nil
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: get %q: %w", key, err)
	}
	if expired {
		s.dropExpired(bucketKV, []byte(key))
	}
	if !found {
		return nil, store.ErrNotFound
	}
	if val == nil {
		val = []byte{}
	}
	return val, nil
}

// Set writes val under key; ttl <= 0 keeps it until deleted.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketKV)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), seal(s.clock(), ttl, val))
	})
	if err != nil {
		return fmt.Errorf("boltstore: set %q: %w", key, err)
	}
	return nil
}

// errNoSwap aborts a CAS transaction whose old value did not match.
var errNoSwap = errors.New("no swap")

// CompareAndSwap replaces old with new in one write transaction, so no
// other writer runs between the compare and the swap.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	k := []byte(key)
	err := s.db.Update(func(tx *bolt.Tx) error {
		cur, ok := liveValue(tx, bucketKV, k, s.clock())
		if old == nil && ok || old != nil && (!ok || !bytes.Equal(cur, old)) {
			return errNoSwap
		}
		b, err := tx.CreateBucketIfNotExists(bucketKV)
		if err != nil {
			return err
		}
		if new == nil {
			return b.Delete(k)
		}
		return b.Put(k, seal(s.clock(), ttl, new))
	})
	if errors.Is(err, errNoSwap) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("boltstore: compare and swap %q: %w", key, err)
	}
	return true, nil
}

// Scan returns every live key starting with prefix and its value: a
// cursor seek, so it reads only the matching range.
func (s *Store) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string][]byte)
	var expired [][]byte
	p := []byte(prefix)
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketKV)
		if b == nil {
			return nil
		}
		now := s.clock()
		c := b.Cursor()
		for k, raw := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, raw = c.Next() {
			v, ok := unseal(raw, now)
			if !ok {
				expired = append(expired, bytes.Clone(k))
				continue
			}
			out[string(k)] = append([]byte{}, v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: scan %q: %w", prefix, err)
	}
	if len(expired) > 0 {
		s.dropExpired(bucketKV, expired...)
	}
	return out, nil
}
