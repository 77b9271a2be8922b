package schedule

import (
	"context"
	"sync"
	"testing"
	"time"
)

// countingParent is a run context that counts the children registered
// with it and not yet released: context.WithCancel and WithTimeout register
// through AfterFunc on a parent that is not one of the context package's own.
type countingParent struct {
	context.Context
	mu   sync.Mutex
	live int
}

func (p *countingParent) AfterFunc(f func()) func() bool {
	p.mu.Lock()
	p.live++
	p.mu.Unlock()
	stop := context.AfterFunc(p.Context, f)
	var once sync.Once
	return func() bool {
		once.Do(func() {
			p.mu.Lock()
			p.live--
			p.mu.Unlock()
		})
		return stop()
	}
}

// Value hides the context package's own parent, so children register
// through AfterFunc. The run context carries no values.
func (p *countingParent) Value(any) any { return nil }

func (p *countingParent) children() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

func TestFinishedRunsReleaseTheirContexts(t *testing.T) {
	for _, timeout := range []time.Duration{0, time.Minute} {
		rec := newRecorder()
		s := New(Options{Observer: rec, Timeout: timeout})
		base, cancel := context.WithCancel(context.Background())
		parent := &countingParent{Context: base}
		s.runCtx, s.cancel = parent, cancel
		runs := make(chan struct{}, 64)
		if err := s.Set([]Job{{ID: "j", Spec: "@every 20ms", Jitter: -1, Run: func(context.Context, time.Time) { runs <- struct{}{} }}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		for range 5 {
			recv(t, runs)
		}
		ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		stop()
		// Stop waited for every run, so every run's context is released.
		if n := parent.children(); n != 0 {
			t.Errorf("timeout %v: %d run contexts still registered with the scheduler's context after 5+ runs ended", timeout, n)
		}
	}
}
