package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// Layout: results/<ENV/CHECK>/<resultKey> → result JSON, one sub-bucket
// per check so a cursor walks one check's history in time order; and
// latest/<ENV/CHECK> → the newest result JSON, so LatestResults reads one
// value per check; and statuses/<ENV/CHECK> → the statuses of the kept
// results, newest first, as JSON, so the page's history reads one small
// value per check instead of decoding ten results.
var (
	bucketResults  = []byte("results")
	bucketLatest   = []byte("latest")
	bucketStatuses = []byte("statuses")
)

// resultKey orders by Started, then by write order: big-endian seconds
// with the sign bit flipped (so times before 1970 sort first), nanoseconds,
// then the bucket's sequence number. Seconds and nanoseconds rather than
// UnixNano because UnixNano is undefined outside 1678–2262, which includes
// a zero Started.
func resultKey(started time.Time, seq uint64) []byte {
	k := make([]byte, 20)
	binary.BigEndian.PutUint64(k[0:8], uint64(started.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:12], uint32(started.Nanosecond()))
	binary.BigEndian.PutUint64(k[12:20], seq)
	return k
}

// PutResult records r and trims its check to the newest store.Keep, in one
// transaction. The daemon writes through PutResults instead: one commit
// (one fsync) per batch rather than per probe.
func (s *Store) PutResult(ctx context.Context, r checks.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := encodeResult(r)
	if err != nil {
		return err
	}
	key := []byte(r.Key())
	err = s.db.Update(func(tx *bolt.Tx) error { return putTx(tx, key, r.Started, r.Status, data) })
	if err != nil {
		return fmt.Errorf("boltstore: put result %s: %w", r.Key(), err)
	}
	return nil
}

// PutResults records every result in one transaction.
func (s *Store) PutResults(ctx context.Context, rs []checks.Result) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	type enc struct {
		key     []byte
		started time.Time
		status  checks.Status
		data    []byte
	}
	var errs []error
	encoded := make([]enc, 0, len(rs))
	for _, r := range rs {
		data, err := encodeResult(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		encoded = append(encoded, enc{[]byte(r.Key()), r.Started, r.Status, data})
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, e := range encoded {
			if err := putTx(tx, e.key, e.started, e.status, e.data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("boltstore: put %d results: %w", len(encoded), err))
	}
	return errors.Join(errs...)
}

func encodeResult(r checks.Result) ([]byte, error) {
	if !r.Subject().Valid() {
		return nil, store.ErrNoKey
	}
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("boltstore: encode result %s: %w", r.Key(), err)
	}
	return data, nil
}

// putTx adds one encoded result under key, trims the check and updates its
// latest entry and its statuses.
func putTx(tx *bolt.Tx, key []byte, started time.Time, status checks.Status, data []byte) error {
	b, err := tx.Bucket(bucketResults).CreateBucketIfNotExists(key)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	rk := resultKey(started, seq)
	if err := b.Put(rk, data); err != nil {
		return err
	}
	if err := trim(b, store.Keep); err != nil {
		return err
	}
	// The newest may not be r: an earlier run can finish last. Cloned
	// because a value read in a write transaction may point into a mmap
	// that the commit replaces.
	newestKey, newest := b.Cursor().Last()
	if err := tx.Bucket(bucketLatest).Put(key, bytes.Clone(newest)); err != nil {
		return err
	}
	return putStatuses(tx, b, key, status, bytes.Equal(newestKey, rk))
}

// putStatuses updates key's statuses for a result of status just added to
// b. The newest result (the usual case) is prepended to what is kept; a
// late result of an earlier run, rare, has the list rebuilt from b.
func putStatuses(tx *bolt.Tx, b *bolt.Bucket, key []byte, status checks.Status, newest bool) error {
	sb := tx.Bucket(bucketStatuses)
	var list []checks.Status
	if newest {
		if v := sb.Get(key); v != nil {
			_ = json.Unmarshal(v, &list) // damaged: start afresh
		}
		list = append([]checks.Status{status}, list...)
		list = list[:min(len(list), store.Keep)]
	} else {
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r struct {
				Status checks.Status `json:"status"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %x: %w", k, err)
			}
			list = append(list, r.Status)
		}
	}
	v, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return sb.Put(key, v)
}

// RecentStatuses returns the statuses of every check's kept results,
// newest first.
func (s *Store) RecentStatuses(ctx context.Context) (map[string][]checks.Status, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string][]checks.Status{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStatuses).ForEach(func(k, v []byte) error {
			var list []checks.Status
			if err := json.Unmarshal(v, &list); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out[string(k)] = list
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: recent statuses: %w", err)
	}
	return out, nil
}

// trim deletes all but the newest keep entries of b.
func trim(b *bolt.Bucket, keep int) error {
	c := b.Cursor()
	// Walk back from the newest: there are at most a few entries past keep,
	// so this is cheaper than counting the bucket.
	k, _ := c.Last()
	for i := 0; i < keep && k != nil; i++ {
		k, _ = c.Prev()
	}
	if k == nil {
		return nil
	}
	boundary := bytes.Clone(k)
	// Re-seek after each delete: a bbolt cursor may skip after Delete.
	for k, _ := c.First(); k != nil && bytes.Compare(k, boundary) <= 0; k, _ = c.First() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// RecentResults returns up to n newest results of key, newest first.
func (s *Store) RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []checks.Result
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketResults).Bucket([]byte(key))
		if b == nil || n <= 0 {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var r checks.Result
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %x: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: recent results %s: %w", key, err)
	}
	return out, nil
}

// LatestResults returns the newest result of every check, ordered by key.
func (s *Store) LatestResults(ctx context.Context) ([]checks.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []checks.Result
	err := s.db.View(func(tx *bolt.Tx) error {
		// Bucket keys are sorted bytes, which is Go string order.
		return tx.Bucket(bucketLatest).ForEach(func(k, v []byte) error {
			var r checks.Result
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: latest results: %w", err)
	}
	return out, nil
}

// DeleteResults forgets every result of keys, in one transaction.
func (s *Store) DeleteResults(ctx context.Context, keys ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range keys {
			if err := tx.Bucket(bucketResults).DeleteBucket([]byte(k)); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if err := tx.Bucket(bucketLatest).Delete([]byte(k)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketStatuses).Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete results: %w", err)
	}
	return nil
}
