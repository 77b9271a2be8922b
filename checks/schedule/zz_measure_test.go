package schedule

import (
	"context"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZMeasure(t *testing.T) {
	if os.Getenv("MEASURE") == "" {
		t.Skip()
	}
	var runs atomic.Int64
	jobs := jobs10k()
	for i := range jobs {
		jobs[i].Run = func(context.Context, time.Time) { runs.Add(1) }
	}
	s := New(Options{Jitter: 5 * time.Second, MaxConcurrency: 64})
	s.Set(jobs)
	s.Start()
	c0 := cpu()
	time.Sleep(10 * time.Second)
	c1 := cpu()
	s.Stop(context.Background())
	t.Logf("runs=%d cpu=%v per-run=%v", runs.Load(), c1-c0, (c1-c0)/time.Duration(runs.Load()))
}
