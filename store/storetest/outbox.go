package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// Replicator is a store under test that can open a second store on the
// same state, as another replica would (Redis). RunOutbox drains the outbox
// through both at once; for a store without it, through two workers on the
// one store.
type Replicator interface {
	Replica(t *testing.T) store.Store
}

// outboxLease is the lease the suite lets expire. Drivers on real time
// (Redis, where the server's clock decides) have to wait it out.
const outboxLease = 200 * time.Millisecond

// RunOutbox runs the Outbox contract. open must return a new, empty store
// each time; a store that also has Advance(time.Duration) reads a clock
// the suite moves, otherwise the suite waits for short real leases.
func RunOutbox(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := freshStore(open)
	t.Run("RoundTrip", func(t *testing.T) { testOutboxRoundTrip(t, fresh(t)) })
	t.Run("EnqueuedDefaultsToNow", func(t *testing.T) { testOutboxEnqueuedNow(t, fresh(t)) })
	t.Run("NoIDOrBadUTF8", func(t *testing.T) { testOutboxNoID(t, fresh(t)) })
	t.Run("IdempotentEnqueue", func(t *testing.T) { testOutboxIdempotent(t, fresh(t)) })
	t.Run("DeliveredIDsForgottenAfterKept", func(t *testing.T) { testOutboxDeliveredKept(t, fresh(t)) })
	t.Run("FIFOWithinGroup", func(t *testing.T) { testOutboxFIFO(t, fresh(t)) })
	t.Run("DeferredHeadBlocksItsGroupOnly", func(t *testing.T) { testOutboxGroupsIndependent(t, fresh(t)) })
	t.Run("DeferredEntryComesBack", func(t *testing.T) { testOutboxDeferComesBack(t, fresh(t)) })
	t.Run("NotBeforeOnEnqueue", func(t *testing.T) { testOutboxNotBeforeOnEnqueue(t, fresh(t)) })
	t.Run("DrainedGroupTakesNewEntries", func(t *testing.T) { testOutboxGroupReused(t, fresh(t)) })
	t.Run("DeferCountsAttempts", func(t *testing.T) { testOutboxDeferAttempts(t, fresh(t)) })
	t.Run("LeaseLimit", func(t *testing.T) { testOutboxLeaseLimit(t, fresh(t)) })
	t.Run("LeaseArguments", func(t *testing.T) { testOutboxLeaseArgs(t, fresh(t)) })
	t.Run("LeaseExclusive", func(t *testing.T) { testOutboxExclusive(t, fresh(t)) })
	t.Run("ExpiredLeaseGoesToAnother", func(t *testing.T) { testOutboxExpiry(t, fresh(t)) })
	t.Run("ExpiredLeaseHeldUntilTaken", func(t *testing.T) { testOutboxExpiredAck(t, fresh(t)) })
	t.Run("NonOwnerCannotAckOrDefer", func(t *testing.T) { testOutboxNonOwner(t, fresh(t)) })
	t.Run("Depth", func(t *testing.T) { testOutboxDepth(t, fresh(t)) })
	t.Run("CancelledContext", func(t *testing.T) { testOutboxCancelled(t, fresh(t)) })
	t.Run("DrainTwoReplicas", func(t *testing.T) {
		s := fresh(t)
		other := s
		if r, ok := s.(Replicator); ok {
			other = r.Replica(t)
			t.Cleanup(func() {
				if err := other.Close(); err != nil {
					t.Errorf("Close replica: %v", err)
				}
			})
		}
		testOutboxDrain(t, s, other)
	})
}

// Entry returns entry i of group: ID "group#i", a payload naming both,
// and an Enqueued time i seconds after a fixed instant.
func Entry(group string, i int) store.OutboxEntry {
	return store.OutboxEntry{
		ID:       fmt.Sprintf("%s#%d", group, i),
		Group:    group,
		Payload:  fmt.Appendf(nil, `{"text":"message %d of %s"}`, i, group),
		Enqueued: base.Add(time.Duration(i) * time.Second),
	}
}

func enqueue(t *testing.T, s store.Store, es ...store.OutboxEntry) {
	t.Helper()
	for _, e := range es {
		if err := s.Enqueue(context.Background(), e); err != nil {
			t.Fatalf("Enqueue(%s): %v", e.ID, err)
		}
	}
}

func lease(t *testing.T, s store.Store, owner string, n int, d time.Duration) []store.OutboxEntry {
	t.Helper()
	got, err := s.Lease(context.Background(), owner, n, d)
	if err != nil {
		t.Fatalf("Lease(%s, %d): %v", owner, n, err)
	}
	return got
}

func ack(t *testing.T, s store.Store, id, owner string) {
	t.Helper()
	if err := s.Ack(context.Background(), id, owner); err != nil {
		t.Fatalf("Ack(%s, %s): %v", id, owner, err)
	}
}

func deferEntry(t *testing.T, s store.Store, id, owner string, notBefore time.Time) {
	t.Helper()
	if err := s.Defer(context.Background(), id, owner, notBefore); err != nil {
		t.Fatalf("Defer(%s, %s): %v", id, owner, err)
	}
}

func depth(t *testing.T, s store.Store) int {
	t.Helper()
	n, err := s.Depth(context.Background())
	if err != nil {
		t.Fatalf("Depth: %v", err)
	}
	return n
}

func ids(es []store.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// wantIDs compares as sets: Lease promises which entries, not their order
// across groups.
func wantIDs(t *testing.T, what string, got []store.OutboxEntry, want ...string) {
	t.Helper()
	g := slices.Sorted(slices.Values(ids(got)))
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s: leased %q, want %q", what, g, w)
	}
}

// now is the time the store goes by: its fake clock, or the real one.
func now(s store.Store) time.Time {
	if c, ok := s.(interface{ Now() time.Time }); ok {
		return c.Now()
	}
	return time.Now()
}

// leaseOnce lets d pass and leases: by moving the store's clock, or else
// by polling (bounded) until Lease hands out something.
func leaseOnce(t *testing.T, s store.Store, d time.Duration, owner string, n int) []store.OutboxEntry {
	t.Helper()
	if a, ok := s.(advancer); ok {
		a.Advance(d)
		return lease(t, s, owner, n, time.Minute)
	}
	deadline := time.Now().Add(d + 5*time.Second)
	for {
		got := lease(t, s, owner, n, time.Minute)
		if len(got) > 0 || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testOutboxRoundTrip(t *testing.T, s store.Store) {
	want := store.OutboxEntry{
		ID:        "prod/payments-account/unauthorized#3",
		Group:     "prod/payments-account/unauthorized",
		Payload:   []byte("{\"text\":\"ünïcode \\u2028 and bytes\"}\x00\xff"),
		Enqueued:  base,
		Attempts:  2,
		NotBefore: now(s).Add(-time.Hour),
	}
	e := want
	e.Payload = bytes.Clone(want.Payload)
	enqueue(t, s, e)
	// The caller's slice is theirs again after Enqueue.
	e.Payload[0] = 'X'
	got := lease(t, s, "replica-a", 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("leased %d entries, want 1", len(got))
	}
	g := got[0]
	if g.ID != want.ID || g.Group != want.Group || !bytes.Equal(g.Payload, want.Payload) ||
		!g.Enqueued.Equal(want.Enqueued) || g.Attempts != want.Attempts || !g.NotBefore.Equal(want.NotBefore) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", g, want)
	}
}

func testOutboxEnqueuedNow(t *testing.T, s store.Store) {
	before := now(s)
	e := Entry("g", 0)
	e.Enqueued = time.Time{}
	enqueue(t, s, e)
	got := lease(t, s, "replica-a", 1, time.Minute)
	if len(got) != 1 {
		t.Fatalf("leased %d entries, want 1", len(got))
	}
	if got[0].Enqueued.Before(before) || got[0].Enqueued.After(now(s)) {
		t.Errorf("Enqueued = %v, want the time of Enqueue (%v or a little later)", got[0].Enqueued, before)
	}
}

func testOutboxNoID(t *testing.T, s store.Store) {
	e := Entry("g", 0)
	e.ID = ""
	if err := s.Enqueue(context.Background(), e); !errors.Is(err, store.ErrNoID) {
		t.Errorf("Enqueue without ID = %v, want store.ErrNoID", err)
	}
	// IDs and groups travel as JSON strings in some drivers, where
	// invalid UTF-8 would come back changed.
	for _, bad := range []store.OutboxEntry{{ID: "g#\xff", Group: "g"}, {ID: "g#1", Group: "g\xff"}} {
		if err := s.Enqueue(context.Background(), bad); err == nil {
			t.Errorf("Enqueue(id %q, group %q) succeeded; want an error for invalid UTF-8", bad.ID, bad.Group)
		}
	}
	if n := depth(t, s); n != 0 {
		t.Errorf("Depth = %d after refused Enqueues, want 0", n)
	}
}

func testOutboxIdempotent(t *testing.T, s store.Store) {
	first := Entry("g", 0)
	second := first
	second.Group = "other"
	second.Payload = []byte("second")
	enqueue(t, s, first, second, first)
	if n := depth(t, s); n != 1 {
		t.Errorf("Depth = %d after enqueuing one ID three times, want 1", n)
	}
	got := lease(t, s, "replica-a", 10, time.Minute)
	if len(got) != 1 || got[0].Group != first.Group || !bytes.Equal(got[0].Payload, first.Payload) {
		t.Fatalf("leased %+v, want only the first enqueue of %s", got, first.ID)
	}
	// Enqueueing a leased or acked ID again changes nothing either.
	enqueue(t, s, first)
	if got := lease(t, s, "replica-b", 10, time.Minute); len(got) != 0 {
		t.Errorf("re-enqueue of a leased entry was handed out again: %q", ids(got))
	}
	ack(t, s, first.ID, "replica-a")
	if n := depth(t, s); n != 0 {
		t.Errorf("Depth = %d after ack, want 0", n)
	}
	// A delivered message's copy coming back (store.DeliveredKept) is not
	// delivered again; a new ID in the same group is.
	fresh := Entry("g", 1)
	enqueue(t, s, first, fresh, first)
	if n := depth(t, s); n != 1 {
		t.Errorf("Depth = %d after re-enqueueing an acked ID beside a new one, want 1", n)
	}
	if got := lease(t, s, "replica-b", 10, time.Minute); len(got) != 1 || got[0].ID != fresh.ID {
		t.Errorf("leased %q after re-enqueueing acked %s, want only %s", ids(got), first.ID, fresh.ID)
	}
}

// An ID acked longer than store.DeliveredKept ago is a new message again:
// the delivered set is trimmed, not kept for ever. Only on a store with a
// clock to move.
func testOutboxDeliveredKept(t *testing.T, s store.Store) {
	a, ok := s.(advancer)
	if !ok {
		t.Skip("needs a store on a test clock: store.DeliveredKept is a day")
	}
	deliver := func(e store.OutboxEntry) {
		t.Helper()
		enqueue(t, s, e)
		if got := lease(t, s, "replica-a", 10, time.Minute); len(got) != 1 || got[0].ID != e.ID {
			t.Fatalf("leased %q, want %s", ids(got), e.ID)
		}
		ack(t, s, e.ID, "replica-a")
	}
	old, recent := Entry("g", 0), Entry("g", 1)
	deliver(old)
	a.Advance(store.DeliveredKept + time.Minute)
	deliver(recent) // an ack trims what was acked before the horizon
	enqueue(t, s, old, recent)
	if got := lease(t, s, "replica-b", 10, time.Minute); len(got) != 1 || got[0].ID != old.ID {
		t.Errorf("leased %q, want only %s (acked beyond store.DeliveredKept; %s was acked within it)", ids(got), old.ID, recent.ID)
	}
}

func testOutboxFIFO(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0), Entry("g", 1), Entry("g", 2))
	wantIDs(t, "first lease", lease(t, s, "replica-a", 10, time.Minute), "g#0")
	wantIDs(t, "while g#0 is leased", lease(t, s, "replica-b", 10, time.Minute))
	ack(t, s, "g#0", "replica-a")
	wantIDs(t, "after ack of g#0", lease(t, s, "replica-a", 10, time.Minute), "g#1")
	// g#1 failed and waits: g#2 must not overtake it.
	deferEntry(t, s, "g#1", "replica-a", now(s).Add(time.Hour))
	wantIDs(t, "while g#1 is deferred", lease(t, s, "replica-b", 10, time.Minute))
	if n := depth(t, s); n != 2 {
		t.Errorf("Depth = %d, want 2", n)
	}
}

func testOutboxGroupsIndependent(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("slow", 0), Entry("slow", 1), Entry("fast", 0), Entry("fast", 1))
	wantIDs(t, "first lease", lease(t, s, "replica-a", 10, time.Minute), "slow#0", "fast#0")
	deferEntry(t, s, "slow#0", "replica-a", now(s).Add(time.Hour))
	ack(t, s, "fast#0", "replica-a")
	wantIDs(t, "with slow#0 deferred", lease(t, s, "replica-a", 10, time.Minute), "fast#1")
	ack(t, s, "fast#1", "replica-a")
	wantIDs(t, "fast drained, slow deferred", lease(t, s, "replica-a", 10, time.Minute))
}

func testOutboxDeferComesBack(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0), Entry("g", 1))
	wantIDs(t, "first lease", lease(t, s, "replica-a", 1, time.Minute), "g#0")
	wait := outboxLease
	if _, ok := s.(advancer); ok {
		wait = time.Hour
	}
	nb := now(s).Add(wait)
	deferEntry(t, s, "g#0", "replica-a", nb)
	got := leaseOnce(t, s, wait, "replica-b", 10)
	wantIDs(t, "once NotBefore has passed", got, "g#0")
	if len(got) == 1 && (got[0].Attempts != 1 || !got[0].NotBefore.Equal(nb)) {
		t.Errorf("deferred entry came back with Attempts %d NotBefore %v, want 1 and %v", got[0].Attempts, got[0].NotBefore, nb)
	}
}

func testOutboxNotBeforeOnEnqueue(t *testing.T, s store.Store) {
	later := now(s).Add(time.Hour)
	a0, b0, b1 := Entry("a", 0), Entry("b", 0), Entry("b", 1)
	a0.NotBefore, b1.NotBefore = later, later
	enqueue(t, s, a0, b0, b1)
	wantIDs(t, "first lease", lease(t, s, "replica-a", 10, time.Minute), "b#0")
	// b#1 becomes the head on this ack, and is not due yet.
	ack(t, s, "b#0", "replica-a")
	wantIDs(t, "before NotBefore", lease(t, s, "replica-a", 10, time.Minute))
	if a, ok := s.(advancer); ok {
		a.Advance(time.Hour)
		wantIDs(t, "at NotBefore", lease(t, s, "replica-a", 10, time.Minute), "a#0", "b#1")
	}
}

func testOutboxGroupReused(t *testing.T, s store.Store) {
	// An incident resolves (its group drains) and later reopens: the new
	// message must not wait for anything left over from the old ones.
	enqueue(t, s, Entry("g", 0))
	wantIDs(t, "first lease", lease(t, s, "replica-a", 10, time.Hour), "g#0")
	ack(t, s, "g#0", "replica-a")
	enqueue(t, s, Entry("g", 1))
	wantIDs(t, "after the group drained", lease(t, s, "replica-b", 10, time.Minute), "g#1")
}

func testOutboxDeferAttempts(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0), Entry("g", 1))
	for attempt := 1; attempt <= 3; attempt++ {
		got := lease(t, s, "replica-a", 10, time.Minute)
		if len(got) != 1 || got[0].ID != "g#0" {
			t.Fatalf("lease %d: got %q, want [g#0]", attempt, ids(got))
		}
		if got[0].Attempts != attempt-1 {
			t.Errorf("lease %d: Attempts = %d, want %d", attempt, got[0].Attempts, attempt-1)
		}
		// A NotBefore in the past is due at once, e.g. a Retry-After of 0.
		deferEntry(t, s, "g#0", "replica-a", now(s).Add(-time.Second))
	}
	if n := depth(t, s); n != 2 {
		t.Errorf("Depth = %d after defers, want 2 (defer keeps the entry)", n)
	}
}

func testOutboxLeaseLimit(t *testing.T, s store.Store) {
	var all []string
	for g := range 5 {
		e := Entry(fmt.Sprintf("g%d", g), 0)
		enqueue(t, s, e)
		all = append(all, e.ID)
	}
	if got := lease(t, s, "replica-a", 0, time.Minute); len(got) != 0 {
		t.Errorf("Lease(n=0) handed out %q", ids(got))
	}
	first := lease(t, s, "replica-a", 2, time.Minute)
	if len(first) != 2 {
		t.Fatalf("Lease(n=2) handed out %d entries, want 2", len(first))
	}
	rest := lease(t, s, "replica-b", 10, time.Minute)
	wantIDs(t, "the rest", append(rest, first...), all...)
	if len(rest) != 3 {
		t.Errorf("second Lease handed out %d entries, want the other 3", len(rest))
	}
}

func testOutboxLeaseArgs(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0))
	ctx := context.Background()
	if got, err := s.Lease(ctx, "", 1, time.Minute); err == nil {
		t.Errorf("Lease without owner = %q, nil; want an error (nobody could ack)", ids(got))
	}
	if got, err := s.Lease(ctx, "replica-a", 1, 0); err == nil {
		t.Errorf("Lease for 0s = %q, nil; want an error", ids(got))
	}
	if err := s.Ack(ctx, "g#0", ""); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack by owner \"\" of an unleased entry = %v, want store.ErrLeaseLost", err)
	}
	if n := depth(t, s); n != 1 {
		t.Errorf("Depth = %d, want 1", n)
	}
}

func testOutboxExpiry(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0), Entry("g", 1))
	wantIDs(t, "replica-a", lease(t, s, "replica-a", 10, outboxLease), "g#0")
	if _, ok := s.(advancer); !ok {
		// Real time: only what cannot be late is asserted before expiry.
		wantIDs(t, "replica-b during replica-a's lease", lease(t, s, "replica-b", 10, time.Minute))
	} else {
		s.(advancer).Advance(outboxLease - time.Millisecond)
		wantIDs(t, "replica-b just before expiry", lease(t, s, "replica-b", 10, time.Minute))
	}
	// replica-a died mid-delivery: its lease runs out and replica-b takes over.
	wantIDs(t, "replica-b after expiry", leaseOnce(t, s, outboxLease, "replica-b", 10), "g#0")
	if err := s.Ack(context.Background(), "g#0", "replica-a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("late Ack by replica-a = %v, want store.ErrLeaseLost", err)
	}
	if err := s.Defer(context.Background(), "g#0", "replica-a", now(s)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("late Defer by replica-a = %v, want store.ErrLeaseLost", err)
	}
	if n := depth(t, s); n != 2 {
		t.Errorf("Depth = %d after a refused ack, want 2", n)
	}
	ack(t, s, "g#0", "replica-b")
	wantIDs(t, "after replica-b's ack", lease(t, s, "replica-a", 10, time.Minute), "g#1")
}

func testOutboxExpiredAck(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0))
	wantIDs(t, "replica-a", lease(t, s, "replica-a", 10, outboxLease), "g#0")
	if a, ok := s.(advancer); ok {
		a.Advance(2 * outboxLease)
	} else {
		// Nothing signals an expiry: it is the passing of time itself.
		time.Sleep(2 * outboxLease)
	}
	// Slow but not overtaken: the ack still counts, so no duplicate.
	ack(t, s, "g#0", "replica-a")
	if n := depth(t, s); n != 0 {
		t.Errorf("Depth = %d, want 0", n)
	}
}

func testOutboxNonOwner(t *testing.T, s store.Store) {
	ctx := context.Background()
	enqueue(t, s, Entry("g", 0), Entry("g", 1))
	if err := s.Ack(ctx, "g#0", "replica-a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack of an unleased entry = %v, want store.ErrLeaseLost", err)
	}
	wantIDs(t, "replica-a", lease(t, s, "replica-a", 10, time.Minute), "g#0")
	if err := s.Ack(ctx, "g#0", "replica-b"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack by non-owner = %v, want store.ErrLeaseLost", err)
	}
	if err := s.Defer(ctx, "g#0", "replica-b", now(s)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Defer by non-owner = %v, want store.ErrLeaseLost", err)
	}
	if n := depth(t, s); n != 2 {
		t.Errorf("Depth = %d after refused ack, want 2", n)
	}
	// Still replica-a's, and still in order.
	wantIDs(t, "replica-b", lease(t, s, "replica-b", 10, time.Minute))
	ack(t, s, "g#0", "replica-a")
	if err := s.Ack(ctx, "g#0", "replica-a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second Ack = %v, want store.ErrLeaseLost", err)
	}
	if err := s.Ack(ctx, "no-such-id", "replica-a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack of an unknown id = %v, want store.ErrLeaseLost", err)
	}
	wantIDs(t, "after ack", lease(t, s, "replica-b", 10, time.Minute), "g#1")
}

func testOutboxDepth(t *testing.T, s store.Store) {
	if n := depth(t, s); n != 0 {
		t.Errorf("empty: Depth = %d", n)
	}
	enqueue(t, s, Entry("a", 0), Entry("a", 1), Entry("b", 0))
	if n := depth(t, s); n != 3 {
		t.Errorf("Depth = %d, want 3", n)
	}
	got := lease(t, s, "replica-a", 10, time.Minute)
	if n := depth(t, s); n != 3 {
		t.Errorf("Depth = %d with %d leased, want 3 (leased is not delivered)", n, len(got))
	}
	for _, e := range got {
		ack(t, s, e.ID, "replica-a")
	}
	if n := depth(t, s); n != 1 {
		t.Errorf("Depth = %d after two acks, want 1", n)
	}
}

func testOutboxCancelled(t *testing.T, s store.Store) {
	enqueue(t, s, Entry("g", 0))
	wantIDs(t, "lease", lease(t, s, "replica-a", 10, time.Minute), "g#0")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Enqueue(ctx, Entry("g", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue = %v, want context.Canceled", err)
	}
	if _, err := s.Lease(ctx, "replica-a", 1, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Lease = %v, want context.Canceled", err)
	}
	if err := s.Ack(ctx, "g#0", "replica-a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Ack = %v, want context.Canceled", err)
	}
	if err := s.Defer(ctx, "g#0", "replica-a", now(s)); !errors.Is(err, context.Canceled) {
		t.Errorf("Defer = %v, want context.Canceled", err)
	}
	if _, err := s.Depth(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Depth = %v, want context.Canceled", err)
	}
	if n := depth(t, s); n != 1 {
		t.Errorf("Depth = %d, want 1: a cancelled call changed the outbox", n)
	}
}
