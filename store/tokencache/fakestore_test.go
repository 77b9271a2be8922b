package tokencache_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// fakeStore is a minimal store.KV and store.Claims with the drivers'
// semantics that records TTLs and can be made unreachable — what memstore
// cannot show.
type fakeStore struct {
	mu     sync.Mutex
	kv     map[string][]byte
	ttl    map[string]time.Duration
	claims map[string]fakeClaim
	down   bool
}

type fakeClaim struct {
	owner string
	until time.Time
}

var errDown = errors.New("fake store: connection refused")

func newFakeStore() *fakeStore {
	return &fakeStore{kv: map[string][]byte{}, ttl: map[string]time.Duration{}, claims: map[string]fakeClaim{}}
}

func (f *fakeStore) setDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *fakeStore) Get(_ context.Context, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errDown
	}
	v, ok := f.kv[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (f *fakeStore) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errDown
	}
	f.kv[key], f.ttl[key] = bytes.Clone(val), ttl
	return nil
}

func (f *fakeStore) CompareAndSwap(_ context.Context, key string, old, new []byte, ttl time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return false, errDown
	}
	cur, ok := f.kv[key]
	if (old == nil && ok) || (old != nil && (!ok || !bytes.Equal(cur, old))) {
		return false, nil
	}
	if new == nil {
		delete(f.kv, key)
		delete(f.ttl, key)
	} else {
		f.kv[key], f.ttl[key] = bytes.Clone(new), ttl
	}
	return true, nil
}

func (f *fakeStore) Scan(_ context.Context, prefix string) (map[string][]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range f.kv {
		if strings.HasPrefix(k, prefix) {
			out[k] = bytes.Clone(v)
		}
	}
	return out, nil
}

func (f *fakeStore) Claim(_ context.Context, key, owner string, ttl time.Duration) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return false, errDown
	}
	if c, ok := f.claims[key]; ok && time.Now().Before(c.until) {
		return false, nil
	}
	f.claims[key] = fakeClaim{owner: owner, until: time.Now().Add(ttl)}
	return true, nil
}

func (f *fakeStore) Release(_ context.Context, key, owner string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.claims[key]; ok && c.owner == owner {
		delete(f.claims, key)
	}
	return nil
}

// backend is a store under test: memstore, or redisstore on the real Redis.
type backend struct {
	name string
	open func(t *testing.T) (store.KV, store.Claims)
}

var backends = []backend{
	{"memstore", func(*testing.T) (store.KV, store.Claims) { s := memstore.New(); return s, s }},
	{"redis", func(t *testing.T) (store.KV, store.Claims) { s := redisStore(t); return s, s }},
}

// redisStore is redisstore on the real Redis under a prefix of its own.
func redisStore(t testing.TB) *redisstore.Store {
	t.Helper()
	client, prefix := storetest.Redis(t)
	return redisstore.New(client, prefix)
}
