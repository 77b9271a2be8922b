// Package redisstore is the shared store for replicas: state in a Redis
// (standalone, Sentinel or Cluster) under one key prefix.
package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
)

var _ store.Store = (*Store)(nil)

// Store keeps state in Redis. It is safe for concurrent use.
//
// Keys (PREFIX is the configured key prefix, e.g. "credmon:"):
//
//	PREFIX results:{ENV/CHECK}   sorted set: result JSON scored by Started
//	PREFIX statuses:{ENV/CHECK}  sorted set: "STARTED_µs:STATUS", the same runs, for the history
//	PREFIX checks                set: every ENV/CHECK with results
//
// The braces are a Cluster hash tag, so every key of one check shares a
// slot and later per-check keys can be updated together.
type Store struct {
	client redis.UniversalClient
	prefix string
	owned  bool             // Close closes the client only if Open created it
	now    func() time.Time // this process's clock; nil is time.Now

	waitReplicas int           // see Options.WaitReplicas
	waitTimeout  time.Duration // see Options.WaitTimeout
}

// clock is this process's now, against which callers' times are read.
func (s *Store) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// New returns a store on a client the caller owns: Close leaves it open.
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

// Close closes the client if Open created it.
func (s *Store) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// checkKey is a key of one check, hash-tagged by the check.
func (s *Store) checkKey(kind, key string) string {
	return s.prefix + kind + ":{" + key + "}"
}
