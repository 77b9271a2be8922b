package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
)

var errHeartbeatTTL = errors.New("boltstore: a heartbeat needs a positive ttl")

// Heartbeat records in as alive for ttl, replacing its earlier heartbeat,
// and drops heartbeats that have expired so the bucket stays small.
func (s *Store) Heartbeat(ctx context.Context, in store.Instance, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl <= 0 {
		return errHeartbeatTTL
	}
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("boltstore: encode instance %s: %w", in.ID, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketInstances)
		if err != nil {
			return err
		}
		now := s.clock()
		var dead [][]byte
		if err := b.ForEach(func(k, raw []byte) error {
			if _, ok := unseal(raw, now); !ok {
				dead = append(dead, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.Put([]byte(in.ID), seal(now, ttl, data))
	})
	if err != nil {
		return fmt.Errorf("boltstore: heartbeat %s: %w", in.ID, err)
	}
	return nil
}

// Instances lists replicas whose heartbeat has not expired, by ID.
func (s *Store) Instances(ctx context.Context) ([]store.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []store.Instance
	damage := store.Damage{What: store.StoredHeartbeats}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstances)
		if b == nil {
			return nil
		}
		now := s.clock()
		// Bucket order is byte order, which is ID order.
		return b.ForEach(func(k, raw []byte) error {
			v, ok := unseal(raw, now)
			if !ok {
				return nil
			}
			var in store.Instance
			if err := json.Unmarshal(v, &in); err != nil {
				// One replica's damage must not hide every other.
				damage.Add(string(k), err)
				return nil
			}
			out = append(out, in)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: instances: %w", err)
	}
	return out, damage.Err()
}
