package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/storetest"
)

var discard = slog.New(slog.DiscardHandler)

// changes records OnChange calls.
type changes struct {
	mu  sync.Mutex
	got []bool
	ch  chan bool
}

func newChanges() *changes { return &changes{ch: make(chan bool, 100)} }

func (c *changes) record(up bool) {
	c.mu.Lock()
	c.got = append(c.got, up)
	c.mu.Unlock()
	c.ch <- up
}

func (c *changes) list() []bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bool(nil), c.got...)
}

// wait returns the next state change, failing after a bound.
func (c *changes) wait(t *testing.T) bool {
	t.Helper()
	select {
	case up := <-c.ch:
		return up
	case <-time.After(10 * time.Second):
		t.Fatal("no state change within 10s")
		return false
	}
}

type setup struct {
	primary *flaky
	local   *memstore.Store
	s       *fallback.Store
	changes *changes
}

func newSetup(t *testing.T) setup {
	p, l, c := newFlaky(), memstore.New(), newChanges()
	s := fallback.New(p, l, fallback.Options{Logger: discard, OnChange: c.record})
	t.Cleanup(func() { s.Close() })
	return setup{primary: p, local: l, s: s, changes: c}
}

func TestUnreachable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{store.ErrNotFound, false},
		{fmt.Errorf("redisstore: get %q: %w", "k", store.ErrNotFound), false},
		{context.Canceled, false},
		{store.ErrLeaseLost, false},
		{errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{errRefused, true},
		{fmt.Errorf("redisstore: claim: %w", errRefused), true},
		{io.EOF, true},
		{syscall.ECONNRESET, true},
		{os.ErrDeadlineExceeded, true},
		{context.DeadlineExceeded, true},
	} {
		if got := fallback.Unreachable(tc.err); got != tc.want {
			t.Errorf("Unreachable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestServesFromPrimaryWhileUp(t *testing.T) {
	x := newSetup(t)
	ctx := t.Context()
	if err := x.s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := x.primary.Store.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Errorf("primary has %q, %v; want the write", v, err)
	}
	// Not found and a cancelled call are answers, not an outage.
	if _, err := x.s.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(missing) = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := x.s.Claim(cancelled, "c", "o", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Claim with a cancelled ctx = %v", err)
	}
	if !x.s.Healthy() || len(x.changes.list()) != 0 {
		t.Errorf("Healthy = %v, changes %v; want up and no change", x.s.Healthy(), x.changes.list())
	}
}

func TestClaimsGrantedLocallyWhileDown(t *testing.T) {
	x := newSetup(t)
	ctx := t.Context()
	// Another replica holds the tick in the primary.
	if ok, _ := x.primary.Store.Claim(ctx, "tick:prod/api:1", "replica-b", time.Minute); !ok {
		t.Fatal("setup claim failed")
	}
	x.primary.down.Store(true)
	ok, err := x.s.Claim(ctx, "tick:prod/api:1", "replica-a", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Claim while the primary is down = %v, %v; want granted locally", ok, err)
	}
	if x.s.Healthy() {
		t.Error("Healthy after a connection failure")
	}
	if got := x.changes.list(); len(got) != 1 || got[0] {
		t.Errorf("OnChange calls %v, want [false]", got)
	}
	// Still exclusive within this replica.
	if ok, _ := x.s.Claim(ctx, "tick:prod/api:1", "replica-a-worker-2", time.Minute); ok {
		t.Error("a second local owner got the same claim")
	}
	// While down, calls go straight to local: no connection attempt each.
	before := x.primary.calls.Load()
	for range 10 {
		if _, err := x.s.Claim(ctx, "tick:prod/api:2", "replica-a", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if n := x.primary.calls.Load() - before; n != 0 {
		t.Errorf("%d calls reached the down primary, want 0", n)
	}
}

func TestKVWritesCarryIntoOutage(t *testing.T) {
	x := newSetup(t)
	ctx := t.Context()
	if err := x.s.Set(ctx, "incident:prod/api", []byte("open"), 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := x.s.CompareAndSwap(ctx, "band:prod/api", nil, []byte("7d"), 0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := x.s.CompareAndSwap(ctx, "band:prod/api", []byte("7d"), nil, 0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	x.primary.down.Store(true)
	if v, err := x.s.Get(ctx, "incident:prod/api"); err != nil || string(v) != "open" {
		t.Errorf("Get during outage = %q, %v; want the value written before it", v, err)
	}
	if _, err := x.s.Get(ctx, "band:prod/api"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a key deleted before the outage reads %v, want ErrNotFound", err)
	}
	if ok, err := x.s.CompareAndSwap(ctx, "incident:prod/api", []byte("open"), []byte("resolved"), 0); !ok || err != nil {
		t.Errorf("CAS during outage = %v, %v", ok, err)
	}
}

func TestCatchUpAfterOutage(t *testing.T) {
	x := newSetup(t)
	ctx := t.Context()
	x.primary.down.Store(true)
	a1, a2, b1 := storetest.Entry("a", 1), storetest.Entry("a", 2), storetest.Entry("b", 1)
	for _, e := range []store.OutboxEntry{a1, a2, b1} {
		if err := x.s.Enqueue(ctx, e); err != nil {
			t.Fatalf("Enqueue during outage: %v", err)
		}
	}
	r := storetest.Result("prod", "api", 0)
	if err := x.s.PutResult(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, err := x.s.LatestResults(ctx); err != nil || len(got) != 1 {
		t.Errorf("LatestResults during outage = %d, %v; want the local result", len(got), err)
	}
	if n, err := x.s.Depth(ctx); n != 3 || err != nil {
		t.Errorf("Depth during outage = %d, %v; want 3 held locally", n, err)
	}
	x.s.Probe(ctx) // still down: nothing moves
	if x.s.Healthy() {
		t.Fatal("Healthy after a failed probe")
	}

	x.primary.down.Store(false)
	x.s.Probe(ctx)
	if !x.s.Healthy() {
		t.Fatal("not Healthy after a probe that reached the primary")
	}
	if got := x.changes.list(); len(got) != 2 || got[0] || !got[1] {
		t.Errorf("OnChange calls %v, want [false true]", got)
	}
	if n, _ := x.local.Depth(ctx); n != 0 {
		t.Errorf("local outbox still holds %d entries", n)
	}
	if got, err := x.primary.Store.RecentResults(ctx, r.Key(), 10); err != nil || len(got) != 1 || got[0].Detail != r.Detail {
		t.Errorf("primary results after catch-up = %v, %v; want the outage's result", got, err)
	}
	// Every entry reached the primary, a's in order.
	var got []string
	for {
		es, err := x.s.Lease(ctx, "notifier", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			got = append(got, e.ID)
			if err := x.s.Ack(ctx, e.ID, "notifier"); err != nil {
				t.Fatalf("Ack(%s): %v", e.ID, err)
			}
		}
	}
	if want := []string{a1.ID, b1.ID, a2.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if n, _ := x.primary.Store.Depth(ctx); n != 0 {
		t.Errorf("primary depth %d after acking all", n)
	}
}

func TestAckDuringOutageIsNotLost(t *testing.T) {
	x := newSetup(t)
	ctx := t.Context()
	e := storetest.Entry("a", 1)
	if err := x.s.Enqueue(ctx, e); err != nil {
		t.Fatal(err)
	}
	es, err := x.s.Lease(ctx, "notifier", 1, time.Minute)
	if err != nil || len(es) != 1 {
		t.Fatal(es, err)
	}
	// Slack took the message; then Redis went away.
	x.primary.down.Store(true)
	if err := x.s.Ack(ctx, e.ID, "notifier"); err != nil {
		t.Fatalf("Ack during outage = %v, want it kept for later", err)
	}
	x.primary.down.Store(false)
	x.s.Probe(ctx)
	if n, _ := x.primary.Store.Depth(ctx); n != 0 {
		t.Errorf("primary still holds the delivered entry (depth %d): it would go out twice", n)
	}
}

func TestOutageEntriesDeliveredLocally(t *testing.T) {
	x := newSetup(t)
	ctx := t.Context()
	x.primary.down.Store(true)
	e := storetest.Entry("a", 1)
	if err := x.s.Enqueue(ctx, e); err != nil {
		t.Fatal(err)
	}
	es, err := x.s.Lease(ctx, "notifier", 10, time.Minute)
	if err != nil || len(es) != 1 {
		t.Fatalf("Lease during outage = %v, %v", es, err)
	}
	x.primary.down.Store(false)
	x.s.Probe(ctx) // up again while the entry is leased from local
	if err := x.s.Ack(ctx, e.ID, "notifier"); err != nil {
		t.Fatalf("Ack of a locally leased entry after recovery: %v", err)
	}
	x.s.Probe(ctx)
	if n, _ := x.s.Depth(ctx); n != 0 {
		t.Errorf("Depth %d after the only entry was delivered and acked", n)
	}
}

func TestProbeLoopNoticesBothWays(t *testing.T) {
	p, l, c := newFlaky(), memstore.New(), newChanges()
	s := fallback.New(p, l, fallback.Options{Logger: discard, OnChange: c.record, ProbeEvery: 10 * time.Millisecond})
	s.Start(t.Context())
	p.down.Store(true)
	if up := c.wait(t); up || s.Healthy() {
		t.Fatalf("first change up=%v Healthy=%v, want down", up, s.Healthy())
	}
	p.down.Store(false)
	if up := c.wait(t); !up || !s.Healthy() {
		t.Fatalf("second change up=%v Healthy=%v, want up", up, s.Healthy())
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
