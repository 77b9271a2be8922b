package schedule

import (
	"fmt"
	"testing"
	"time"
)

func TestOffsetDeterministicAndInRange(t *testing.T) {
	const jitter = 5 * time.Second
	distinct := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("prod/check-%d", i)
		o := Offset(id, jitter)
		if o < 0 || o >= jitter {
			t.Fatalf("Offset(%q) = %v, outside [0, %v)", id, o, jitter)
		}
		if again := Offset(id, jitter); again != o {
			t.Fatalf("Offset(%q) changed: %v then %v", id, o, again)
		}
		distinct[o.Truncate(100*time.Millisecond)] = true
	}
	// 1000 IDs over 50 buckets of 100ms: a working hash fills nearly all.
	if len(distinct) < 45 {
		t.Fatalf("offsets fill %d of 50 buckets; load would not spread", len(distinct))
	}
	if o := Offset("x", 0); o != 0 {
		t.Fatalf("Offset without jitter = %v", o)
	}
	if o := Offset("x", -time.Second); o != 0 {
		t.Fatalf("Offset with negative jitter = %v", o)
	}
}

func TestSchedulerOffsetUsesEffectiveJitter(t *testing.T) {
	s := New(Options{Jitter: 5 * time.Second})
	err := s.Set([]Job{
		{ID: "default", Spec: "@every 10s", Run: nop},
		{ID: "own", Spec: "@every 10s", Jitter: time.Second, Run: nop},
		{ID: "none", Spec: "@every 10s", Jitter: -1, Run: nop},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each job starts at an aligned tick plus the offset of its own
	// effective jitter.
	now := time.Now()
	for id, jitter := range map[string]time.Duration{"default": 5 * time.Second, "own": time.Second, "none": 0} {
		n := s.Next(id)
		if !n.After(now) || n.After(now.Add(15*time.Second)) {
			t.Errorf("Next(%s) = %v, not within the next interval+jitter after %v", id, n, now)
		}
		if got := n.Add(-Offset(id, jitter)); got.UnixNano()%int64(10*time.Second) != 0 {
			t.Errorf("Next(%s) minus Offset(%s, %v) = %v, not an aligned tick", id, id, jitter, got)
		}
	}
}
