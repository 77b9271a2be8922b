package rotation

import (
	"context"
	"errors"
	"time"
)

// KV is the shared state a Tracker keeps — fingerprint records and
// completions — declared here so rotation depends on no store package;
// store.KV satisfies it.
type KV interface {
	// Get returns the value, or an error whose NotFound method reports
	// true when the key has none (store.ErrNotFound, however wrapped).
	Get(ctx context.Context, key string) ([]byte, error)
	// CompareAndSwap replaces old with new atomically and reports whether
	// it did. old nil means the key must be absent; new nil deletes it.
	CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error)
}

// notFound reports whether err says the key has no value.
func notFound(err error) bool {
	var nf interface{ NotFound() bool }
	return errors.As(err, &nf) && nf.NotFound()
}
