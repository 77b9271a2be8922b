package boltstore

// TODO(kv): placeholder so the package compiles while KV, Claims and
// Instances are written; replaced by kv.go, claims.go, instances.go.

import (
	"context"
	"errors"
	"time"

	"github.com/credmon/credmon/store"
)

var errKVTodo = errors.New("boltstore: not implemented yet")

func (s *Store) Get(ctx context.Context, key string) ([]byte, error) { return nil, errKVTodo }
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return errKVTodo
}
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	return false, errKVTodo
}
func (s *Store) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	return nil, errKVTodo
}
func (s *Store) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	return false, errKVTodo
}
func (s *Store) Release(ctx context.Context, key, owner string) error { return errKVTodo }
func (s *Store) Heartbeat(ctx context.Context, in store.Instance, ttl time.Duration) error {
	return errKVTodo
}
func (s *Store) Instances(ctx context.Context) ([]store.Instance, error) { return nil, errKVTodo }
