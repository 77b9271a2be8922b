package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// DamagedHead is the entry CheckDamagedEntry damages: the head of group
// "g1", with "g1#1" queued behind it and "g2#0" in another group.
const DamagedHead = "g1#0"

// CheckDamagedEntry holds an outbox driver to what a damaged or hostile
// stored entry may do, for the drivers' fuzzers. On an empty outbox s it
// enqueues three entries, then plant stores raw as DamagedHead's value
// and returns the value Enqueue stored. Then:
//
//   - Lease hands out g2#0, fails for nothing else, and names DamagedHead
//     in a *store.DamagedError (StoredOutbox) when it does not hand it out
//     as the entry it is;
//   - raw equal to the value Enqueue stored reads as the entry enqueued;
//   - every entry handed out can be acked; g1#1 is not handed out before
//     DamagedHead is acked, and is at once after.
func CheckDamagedEntry(t *testing.T, s store.Store, plant func(id string, raw []byte) (stored []byte, err error), raw []byte) {
	t.Helper()
	ctx := context.Background()
	head, next, other := Entry("g1", 0), Entry("g1", 1), Entry("g2", 0)
	enqueue(t, s, head, next, other)
	stored, err := plant(DamagedHead, raw)
	if err != nil {
		t.Fatalf("planting %s: %v", DamagedHead, err)
	}

	got, err := s.Lease(ctx, "owner-a", 10, time.Minute)
	damaged := checkDamage(t, "Lease", err)
	byID := map[string]store.OutboxEntry{}
	for _, e := range got {
		byID[e.ID] = e
	}
	if _, ok := byID[other.ID]; !ok {
		t.Fatalf("Lease = %q, %v; want %s, which is not damaged, handed out", ids(got), err, other.ID)
	}
	if _, ok := byID[next.ID]; ok {
		t.Fatalf("Lease handed out %s before its group's head %s", next.ID, DamagedHead)
	}
	if len(got) > 2 || len(got) == 2 && byID[DamagedHead].ID == "" {
		t.Fatalf("Lease = %q; want %s and perhaps %s", ids(got), other.ID, DamagedHead)
	}
	_, leasedHead := byID[DamagedHead]
	if leasedHead && damaged {
		t.Fatalf("Lease handed out %s and also reports it damaged", DamagedHead)
	}
	if bytes.Equal(raw, stored) && (!leasedHead || !reflect.DeepEqual(byID[DamagedHead], head)) {
		t.Fatalf("the value Enqueue stored reads as %+v, %v; want %+v", byID[DamagedHead], err, head)
	}
	for _, e := range got {
		if err := s.Ack(ctx, e.ID, "owner-a"); err != nil {
			t.Fatalf("Ack(%s) of an entry Lease handed out: %v", e.ID, err)
		}
	}

	got, err = s.Lease(ctx, "owner-b", 10, time.Minute)
	checkDamage(t, "second Lease", err)
	want := []string{}
	if leasedHead {
		want = []string{next.ID}
	}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("second Lease = %q, %v; want %q", ids(got), err, want)
	}
}

// checkDamage fails t unless err is nil or a *store.DamagedError naming
// only DamagedHead, and reports which.
func checkDamage(t *testing.T, what string, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	var d *store.DamagedError
	if !errors.As(err, &d) || d.What != store.StoredOutbox || !slices.Equal(d.Keys, []string{DamagedHead}) {
		t.Fatalf("%s error = %v; want none or a *store.DamagedError naming only %s", what, err, DamagedHead)
	}
	return true
}
