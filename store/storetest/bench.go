package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
)

// benchChecks is how many checks the benchmarks spread results over: a
// mid-sized deployment's status page.
const benchChecks = 100

// BenchPutResult measures PutResult of a full result, round-robin over
// benchChecks checks, with every check already holding store.Keep results
// so trimming is part of each put.
func BenchPutResult(b *testing.B, s store.Store) {
	ctx := context.Background()
	r := Full()
	fill(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Check = fmt.Sprintf("check-%03d", i%benchChecks)
		r.Started = base.Add(time.Hour + time.Duration(i)*time.Millisecond)
		if err := s.PutResult(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchLatestResults measures one LatestResults over benchChecks checks:
// what the status page and `credmon status` pay per view.
func BenchLatestResults(b *testing.B, s store.Store) {
	ctx := context.Background()
	fill(b, s)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		got, err := s.LatestResults(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != benchChecks {
			b.Fatalf("LatestResults returned %d, want %d", len(got), benchChecks)
		}
	}
}

func fill(b *testing.B, s store.Store) {
	b.Helper()
	ctx := context.Background()
	r := Full()
	for c := range benchChecks {
		r.Check = fmt.Sprintf("check-%03d", c)
		for i := range store.Keep {
			r.Started = base.Add(time.Duration(i) * time.Millisecond)
			if err := s.PutResult(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}
