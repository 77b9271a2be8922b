package fallback_test

import (
	"context"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// errRefused is what a client says when Redis is gone.
var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// flaky is a primary that can be switched off: every call then fails as
// a connection to a dead Redis would. calls counts calls that reached it.
type flaky struct {
	*memstore.Store
	down  atomic.Bool
	calls atomic.Int64
}

func newFlaky() *flaky { return &flaky{Store: memstore.New()} }

func (f *flaky) err() error {
	f.calls.Add(1)
	if f.down.Load() {
		return errRefused
	}
	return nil
}

func (f *flaky) PutResult(ctx context.Context, r checks.Result) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.PutResult(ctx, r)
}

func (f *flaky) RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.RecentResults(ctx, key, n)
}

func (f *flaky) LatestResults(ctx context.Context) ([]checks.Result, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.LatestResults(ctx)
}

func (f *flaky) Get(ctx context.Context, key string) ([]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Get(ctx, key)
}

func (f *flaky) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Set(ctx, key, val, ttl)
}

func (f *flaky) CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	if err := f.err(); err != nil {
		return false, err
	}
	return f.Store.CompareAndSwap(ctx, key, old, new, ttl)
}

func (f *flaky) Scan(ctx context.Context, prefix string) (map[string][]byte, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Scan(ctx, prefix)
}

func (f *flaky) Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	if err := f.err(); err != nil {
		return false, err
	}
	return f.Store.Claim(ctx, key, owner, ttl)
}

func (f *flaky) Release(ctx context.Context, key, owner string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Release(ctx, key, owner)
}

func (f *flaky) Heartbeat(ctx context.Context, in store.Instance, ttl time.Duration) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Heartbeat(ctx, in, ttl)
}

func (f *flaky) Instances(ctx context.Context) ([]store.Instance, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Instances(ctx)
}

func (f *flaky) Enqueue(ctx context.Context, e store.OutboxEntry) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Enqueue(ctx, e)
}

func (f *flaky) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return f.Store.Lease(ctx, owner, n, lease)
}

func (f *flaky) Ack(ctx context.Context, id, owner string) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Ack(ctx, id, owner)
}

func (f *flaky) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	if err := f.err(); err != nil {
		return err
	}
	return f.Store.Defer(ctx, id, owner, notBefore)
}

func (f *flaky) Depth(ctx context.Context) (int, error) {
	if err := f.err(); err != nil {
		return 0, err
	}
	return f.Store.Depth(ctx)
}
