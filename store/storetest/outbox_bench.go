package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// BenchOutbox measures one message's way through the outbox: Enqueue,
// Lease and Ack, over 100 groups with 100 other entries waiting, as during
// a Slack outage that has just ended.
func BenchOutbox(b *testing.B, s store.Outbox) {
	ctx := context.Background()
	const groups = 100
	for g := range groups {
		e := Entry(fmt.Sprintf("waiting-%03d", g), 0)
		if err := s.Enqueue(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	// The waiting entries are leased once, for longer than the run, so
	// every Lease below hands out the one new entry.
	if _, err := s.Lease(ctx, "bench-holder", groups, time.Hour); err != nil {
		b.Fatal(err)
	}
	e := Entry("bench", 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e.ID = fmt.Sprintf("bench#%d", i)
		e.Group = fmt.Sprintf("bench-%03d", i%groups)
		if err := s.Enqueue(ctx, e); err != nil {
			b.Fatal(err)
		}
		got, err := s.Lease(ctx, "bench", 1, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != e.ID {
			b.Fatalf("leased %d entries, want %s", len(got), e.ID)
		}
		if err := s.Ack(ctx, e.ID, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
