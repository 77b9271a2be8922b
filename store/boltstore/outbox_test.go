package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/storetest"
)

// openOnClock opens a store at path whose clock is clk.
func openOnClock(t testing.TB, path string, clk *storetest.Clock) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.now = clk.Now
	return s
}

func TestOutbox(t *testing.T) {
	storetest.RunOutbox(t, func(t *testing.T) store.Store {
		clk := storetest.NewClock()
		return clocked{openOnClock(t, filepath.Join(t.TempDir(), "credmon.db"), clk), clk}
	})
}

func TestOutboxSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	clk := storetest.NewClock()
	ctx := context.Background()
	s := openOnClock(t, path, clk)
	for _, e := range []store.OutboxEntry{storetest.Entry("a", 0), storetest.Entry("a", 1), storetest.Entry("b", 0)} {
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Lease(ctx, "replica-a", 1, time.Minute)
	if err != nil || len(got) != 1 {
		t.Fatalf("Lease = %d entries, %v; want 1", len(got), err)
	}
	leased := got[0].ID
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The process restarts within the lease: the lease, the queue order
	// and the ready index all come back from the file.
	s = openOnClock(t, path, clk)
	defer s.Close()
	if n, err := s.Depth(ctx); err != nil || n != 3 {
		t.Fatalf("Depth after reopen = %d, %v; want 3", n, err)
	}
	got, err = s.Lease(ctx, "replica-b", 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID == leased {
		t.Fatalf("Lease after reopen = %v, %v; want only the other group's head (%s is still leased)", got, err, leased)
	}
	for _, id := range []string{leased, got[0].ID} {
		owner := map[bool]string{true: "replica-a", false: "replica-b"}[id == leased]
		if err := s.Ack(ctx, id, owner); err != nil {
			t.Fatalf("Ack(%s, %s): %v", id, owner, err)
		}
	}
	got, err = s.Lease(ctx, "replica-b", 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != "a#1" {
		t.Fatalf("Lease = %v, %v; want [a#1]", got, err)
	}
}

func TestOutboxIdleLeaseDoesNotWrite(t *testing.T) {
	s := openOnClock(t, filepath.Join(t.TempDir(), "credmon.db"), storetest.NewClock())
	defer s.Close()
	ctx := context.Background()
	if err := s.Enqueue(ctx, storetest.Entry("a", 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lease(ctx, "replica-a", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	st := s.db.Stats()
	before := st.TxStats.GetWrite()
	for range 10 {
		if got, err := s.Lease(ctx, "replica-a", 1, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("Lease = %v, %v; want nothing", got, err)
		}
	}
	st = s.db.Stats()
	if after := st.TxStats.GetWrite(); after != before {
		t.Errorf("10 idle leases wrote %d pages, want 0", after-before)
	}
}

func TestOutboxAckOnFreshFile(t *testing.T) {
	s := openOnClock(t, filepath.Join(t.TempDir(), "credmon.db"), storetest.NewClock())
	defer s.Close()
	if err := s.Ack(context.Background(), "x", "replica-a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack before any Enqueue = %v, want store.ErrLeaseLost", err)
	}
}

// An ID acked longer than store.DeliveredKept ago is a new message again
// even where the sweep has not reached it: after a burst of more acks than
// one Ack trims, or with no Ack since. An ID acked again is then kept for
// DeliveredKept from that ack.
func TestOutboxForgetsDeliveredIDsBeforeTheSweep(t *testing.T) {
	clk := storetest.NewClock()
	s := openOnClock(t, filepath.Join(t.TempDir(), "credmon.db"), clk)
	defer s.Close()
	ctx := context.Background()
	deliver := func(es ...store.OutboxEntry) {
		t.Helper()
		for _, e := range es {
			if err := s.Enqueue(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Lease(ctx, "replica-a", len(es)+1, time.Minute)
		if err != nil || len(got) != len(es) {
			t.Fatalf("Lease = %d entries, %v; want %d", len(got), err, len(es))
		}
		for _, e := range got {
			if err := s.Ack(ctx, e.ID, "replica-a"); err != nil {
				t.Fatal(err)
			}
		}
	}
	depthAfter := func(what string, want int, es ...store.OutboxEntry) {
		t.Helper()
		for _, e := range es {
			if err := s.Enqueue(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.Depth(ctx); err != nil || n != want {
			t.Errorf("Depth after %s = %d, %v; want %d", what, n, err, want)
		}
	}

	var burst []store.OutboxEntry // one group each, leased at once
	for i := range trimPerAck + 2 {
		burst = append(burst, storetest.Entry(fmt.Sprintf("g%d", i), 0))
	}
	deliver(burst...)
	clk.Advance(store.DeliveredKept + time.Minute)
	// No Ack since the burst: nothing was swept.
	depthAfter("re-enqueueing the burst a day later", len(burst), burst...)
	deliver(burst...)
	// Acked again just now: kept, although the sweep of these very acks
	// removed the burst's first acks.
	depthAfter("re-enqueueing the burst right after its second ack", 0, burst...)
	clk.Advance(store.DeliveredKept - time.Minute)
	depthAfter("re-enqueueing within DeliveredKept of the second ack", 0, burst...)
}

func BenchmarkOutbox(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "credmon.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchOutbox(b, s)
}

func TestOutboxKeysOrder(t *testing.T) {
	// The queue is ordered by key bytes: sequence numbers must sort as
	// numbers across byte boundaries, and no group's keys may fall among
	// another's (a group that is a prefix of another, or empty).
	pairs := [][2][]byte{
		{queueKey("g", 255), queueKey("g", 256)},
		{queueKey("g", 1<<32-1), queueKey("g", 1<<32)},
		{timeKey(time.Unix(-1, 0)), timeKey(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))},
		{timeKey(time.Time{}), timeKey(time.Unix(0, 0))},
		{timeKey(time.Unix(5, 999999999)), timeKey(time.Unix(6, 0))},
	}
	for i, p := range pairs {
		if bytes.Compare(p[0], p[1]) >= 0 {
			t.Errorf("pair %d: %x sorts after %x", i, p[0], p[1])
		}
	}
	for _, g := range []string{"", "a", "ab", "a\x00"} {
		for _, other := range []string{"", "a", "ab", "a\x00"} {
			if g != other && bytes.HasPrefix(queueKey(other, 7), groupKey(g)) {
				t.Errorf("a key of group %q starts with group %q's prefix", other, g)
			}
		}
	}
}
