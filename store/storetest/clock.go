package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// Clock is a fake clock for drivers that keep their own expiry (memory,
// bolt): a driver test points the store at Now and hands the suite a store
// that also has Advance, so TTL cases move time instead of waiting.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at a fixed instant.
func NewClock() *Clock { return &Clock{now: base} }

// Now is the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// advancer is a store under test whose clock the suite can move.
type advancer interface{ Advance(time.Duration) }

// ShortTTL is the ttl the suite lets expire: short, for drivers on real
// time (Redis), which the suite then has to wait out.
const ShortTTL = 100 * time.Millisecond

// LongTTL never expires during a test.
const LongTTL = time.Hour

// expire makes every value written with ShortTTL expire: by moving the
// store's clock, or else by polling gone (bounded) until it reports true.
func expire(t *testing.T, s store.Store, gone func() bool) {
	t.Helper()
	if a, ok := s.(advancer); ok {
		a.Advance(ShortTTL)
		if !gone() {
			t.Fatal("value still present once its ttl has passed")
		}
		return
	}
	deadline := time.Now().Add(ShortTTL + 5*time.Second)
	for !gone() {
		if time.Now().After(deadline) {
			t.Fatalf("value still present 5s after its ttl of %s", ShortTTL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// almostExpire moves a clocked store to just before ShortTTL ends and
// reports whether it could; real-time stores cannot do that without a
// timing assumption, so those cases are skipped for them.
func almostExpire(s store.Store) bool {
	a, ok := s.(advancer)
	if ok {
		a.Advance(ShortTTL - time.Millisecond)
	}
	return ok
}
