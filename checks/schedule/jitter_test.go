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
	if got, want := s.Offset("default"), Offset("default", 5*time.Second); got != want {
		t.Errorf("Offset(default) = %v, want %v", got, want)
	}
	if got, want := s.Offset("own"), Offset("own", time.Second); got != want {
		t.Errorf("Offset(own) = %v, want %v", got, want)
	}
	if got := s.Offset("none"); got != 0 {
		t.Errorf("Offset(none) = %v, want 0", got)
	}
	now := time.Now()
	n := s.Next("default")
	if !n.After(now) || n.After(now.Add(15*time.Second)) {
		t.Errorf("Next(default) = %v, not within the next interval+jitter after %v", n, now)
	}
	if got := n.Add(-s.Offset("default")); got.UnixNano()%int64(10*time.Second) != 0 {
		t.Errorf("Next(default) minus its offset = %v, not an aligned tick", got)
	}
}
