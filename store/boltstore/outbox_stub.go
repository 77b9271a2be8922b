package boltstore

// TODO(outbox): placeholder so the package compiles while the outbox is
// written; replaced by outbox.go.

import (
	"context"
	"errors"
	"time"

	"github.com/credmon/credmon/store"
)

var errOutboxTodo = errors.New("boltstore: outbox not implemented yet")

func (s *Store) Enqueue(ctx context.Context, e store.OutboxEntry) error { return errOutboxTodo }
func (s *Store) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	return nil, errOutboxTodo
}
func (s *Store) Ack(ctx context.Context, id, owner string) error { return errOutboxTodo }
func (s *Store) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	return errOutboxTodo
}
func (s *Store) Depth(ctx context.Context) (int, error) { return 0, errOutboxTodo }
