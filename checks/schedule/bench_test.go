package schedule

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// jobs10k is the daemon's large case: 10,000 checks every 10s, 5s jitter.
func jobs10k() []Job {
	jobs := make([]Job, 10_000)
	for i := range jobs {
		jobs[i] = Job{ID: fmt.Sprintf("env%d/check-%d", i%3, i), Spec: "@every 10s", Run: nop}
	}
	return jobs
}

// schedule10k sets up, starts and stops 10k jobs; it measures nothing and
// fires nothing unless a tick falls in its few milliseconds.
func schedule10k(tb testing.TB, jobs []Job) {
	s := New(Options{Jitter: 5 * time.Second, MaxConcurrency: 64})
	if err := s.Set(jobs); err != nil {
		tb.Fatal(err)
	}
	s.Start()
	now := time.Now()
	for _, j := range jobs[:100] {
		if n := s.Next(j.ID); !n.After(now.Add(-time.Second)) || n.After(now.Add(15*time.Second)) {
			tb.Fatalf("Next(%s) = %v, not within one interval plus jitter of %v", j.ID, n, now)
		}
	}
	// A reload that changes nothing must be cheap: no cron traffic.
	if err := s.Set(jobs); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
}

func TestSchedule10k(t *testing.T) {
	if testing.Short() {
		t.Skip("10k jobs")
	}
	schedule10k(t, jobs10k())
}

func BenchmarkSchedule10k(b *testing.B) {
	jobs := jobs10k()
	for b.Loop() {
		schedule10k(b, jobs)
	}
}
