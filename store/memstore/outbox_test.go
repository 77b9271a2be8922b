package memstore

import (
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/storetest"
)

// clockedOutbox is a store whose outbox runs on a storetest.Clock, so the
// contract suite moves time instead of waiting for leases to expire.
type clockedOutbox struct {
	*Store
	*storetest.Clock
}

func openClockedOutbox(*testing.T) store.Store {
	s, clk := New(), storetest.NewClock()
	s.outbox.now = clk.Now
	return clockedOutbox{s, clk}
}

func TestOutbox(t *testing.T) { storetest.RunOutbox(t, openClockedOutbox) }

func TestOutboxOnRealClock(t *testing.T) {
	// The suite's real-time paths, which Redis takes, checked where they
	// are cheap.
	storetest.RunOutbox(t, func(*testing.T) store.Store { return New() })
}

func TestAckedGroupsAreForgotten(t *testing.T) {
	// An incident's group must not outlive its messages: a daemon running
	// for months would otherwise keep every group it ever saw.
	s := openClockedOutbox(t).(clockedOutbox)
	ctx := t.Context()
	for _, e := range []store.OutboxEntry{storetest.Entry("a", 0), storetest.Entry("b", 0)} {
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Lease(ctx, "replica-a", 10, time.Minute)
	if err != nil || len(got) != 2 {
		t.Fatalf("Lease = %d entries, %v; want 2", len(got), err)
	}
	for _, e := range got {
		if err := s.Ack(ctx, e.ID, "replica-a"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.outbox.groups); n != 0 {
		t.Errorf("%d groups kept after every entry was acked", n)
	}
}

func BenchmarkOutbox(b *testing.B) { storetest.BenchOutbox(b, New()) }

func TestDeliveredIDsDoNotPileUp(t *testing.T) {
	// The delivered set is trimmed as the contract's
	// DeliveredIDsForgottenAfterKept shows; here, that it does not keep
	// the trimmed IDs either (a daemon running for months).
	s := openClockedOutbox(t).(clockedOutbox)
	ctx := t.Context()
	for i := range 3 {
		e := storetest.Entry("a", i)
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := s.Lease(ctx, "replica-a", 10, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("Lease = %d entries, %v; want 1", len(got), err)
		}
		if err := s.Ack(ctx, e.ID, "replica-a"); err != nil {
			t.Fatal(err)
		}
		s.Advance(store.DeliveredKept + time.Minute)
	}
	if n, m := len(s.outbox.delivered), len(s.outbox.deliveredAt); n != 1 || m != 1 {
		t.Errorf("%d delivered IDs (%d in order) kept, want 1: only the last is within store.DeliveredKept", n, m)
	}
}
