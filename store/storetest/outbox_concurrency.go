package storetest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// The outbox cases where several owners (workers, replicas) race.

func testOutboxExclusive(t *testing.T, s store.Store) {
	const groups, workers = 40, 5
	for g := range groups {
		enqueue(t, s, Entry(fmt.Sprintf("g%02d", g), 0))
	}
	var mu sync.Mutex
	seen := map[string]string{} // id → owner
	var wg sync.WaitGroup
	for w := range workers {
		owner := fmt.Sprintf("replica-%d", w)
		wg.Go(func() {
			// Every lease that hands out anything hands out something new,
			// so more rounds than entries means entries come back.
			for range groups + 1 {
				got, err := s.Lease(context.Background(), owner, 3, time.Hour)
				if err != nil {
					t.Errorf("Lease(%s): %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					if prev, dup := seen[e.ID]; dup {
						t.Errorf("%s leased to %s and %s", e.ID, prev, owner)
					}
					seen[e.ID] = owner
				}
				mu.Unlock()
			}
			t.Errorf("%s still leasing after %d rounds: entries are handed out again", owner, groups+1)
		})
	}
	wg.Wait()
	if len(seen) != groups {
		t.Errorf("%d distinct entries leased, want all %d", len(seen), groups)
	}
	if n := depth(t, s); n != groups {
		t.Errorf("Depth = %d, want %d (nothing acked)", n, groups)
	}
}

// testOutboxDrain drains 200 entries in 20 groups through two stores (two
// replicas) with two workers each, and checks every entry is delivered
// once, in order within its group.
func testOutboxDrain(t *testing.T, a, b store.Store) {
	const groups, perGroup = 20, 10
	for i := range perGroup {
		for g := range groups {
			enqueue(t, a, Entry(fmt.Sprintf("g%02d", g), i))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	delivered := map[string][]string{} // group → ids in delivery order
	acked := map[string]int{}
	var wg sync.WaitGroup
	for w, s := range []store.Store{a, a, b, b} {
		owner := fmt.Sprintf("replica-%d", w)
		wg.Go(func() {
			for ctx.Err() == nil {
				got, err := s.Lease(ctx, owner, 4, time.Minute)
				if err != nil {
					t.Errorf("Lease(%s): %v", owner, err)
					return
				}
				if len(got) == 0 {
					n, err := s.Depth(ctx)
					if err != nil {
						t.Errorf("Depth: %v", err)
						return
					}
					if n == 0 {
						return
					}
					runtime.Gosched() // the rest is leased by other workers
					continue
				}
				for _, e := range got {
					// Recorded while the lease is held: the group's next
					// entry cannot be handed out before the Ack below.
					mu.Lock()
					delivered[e.Group] = append(delivered[e.Group], e.ID)
					mu.Unlock()
					if err := s.Ack(ctx, e.ID, owner); err != nil {
						t.Errorf("Ack(%s, %s): %v", e.ID, owner, err)
						return
					}
					mu.Lock()
					acked[e.ID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("outbox not drained within 30s: %d entries acked", len(acked))
	}
	if len(acked) != groups*perGroup {
		t.Errorf("%d distinct entries acked, want %d", len(acked), groups*perGroup)
	}
	for id, n := range acked {
		if n != 1 {
			t.Errorf("%s acked %d times", id, n)
		}
	}
	for g := range groups {
		name := fmt.Sprintf("g%02d", g)
		var want []string
		for i := range perGroup {
			want = append(want, Entry(name, i).ID)
		}
		if got := delivered[name]; !slices.Equal(got, want) {
			t.Errorf("group %s delivered in order %q, want %q", name, got, want)
		}
	}
}
