package schedule

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// jobState is what runs of one job ID share, also across reloads that
// change its schedule.
type jobState struct {
	running atomic.Bool
	// lastTick is the newest tick claimed by a run, in Unix nanoseconds.
	// It keeps a tick from running twice when a reload moves the job to a
	// later offset, or when a cohort's goroutine started so late that cron
	// already fired the next tick.
	lastTick atomic.Int64
}

// claim reports whether tick is newer than any tick claimed before.
func (st *jobState) claim(tick time.Time) bool {
	t := tick.UnixNano()
	for {
		last := st.lastTick.Load()
		if t <= last {
			return false
		}
		if st.lastTick.CompareAndSwap(last, t) {
			return true
		}
	}
}

// entry is one job as scheduled.
type entry struct {
	s       *Scheduler
	id      string
	labels  Labels
	spec    string
	jitter  time.Duration // effective
	timeout time.Duration // effective
	cohort  *cohort
	run     atomic.Pointer[func(context.Context, time.Time)]
	state   *jobState
	// removed is set when a reload drops or replaces the entry, for a
	// cohort that fired with the old job list.
	removed atomic.Bool
}

func (e *entry) sameSchedule(o *entry) bool {
	return e.id == o.id && e.spec == o.spec && e.jitter == o.jitter && e.timeout == o.timeout
}

// runTick runs the job for one tick unless it already ran it, its previous
// run is still going, or the scheduler is stopping. It always releases
// what it took, also when the job panics.
func (e *entry) runTick(tick time.Time) {
	s := e.s
	s.inflight.Add(1)
	defer s.inflight.Add(-1)

	if e.removed.Load() || !e.state.claim(tick) {
		return
	}
	if !e.state.running.CompareAndSwap(false, true) {
		// Metrics and log before the observer: what it is told about is
		// already counted.
		s.metrics.skip(e.labels)
		s.log.Warn("run skipped: the previous run is still going", "job", e.id, "tick", tick.UTC().Format(time.RFC3339))
		s.obs.Skipped(e.id, tick)
		return
	}
	defer e.state.running.Store(false)

	if s.slots != nil {
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-s.stopping:
			return
		}
	}
	select {
	case <-s.stopping:
		return // Stop began while this run was on its way
	default:
	}

	// One context per run, always cancelled: a child of runCtx that is
	// never cancelled stays registered with it until Stop, one per run.
	var (
		ctx    context.Context
		cancel context.CancelFunc
	)
	if e.timeout > 0 {
		ctx, cancel = context.WithTimeout(s.runCtx, e.timeout)
	} else {
		ctx, cancel = context.WithCancel(s.runCtx)
	}
	defer cancel()

	start := time.Now()
	lag := start.Sub(tick.Add(e.cohort.key.offset))
	s.metrics.started(lag)
	s.obs.Started(e.id, tick, start.In(s.loc), lag)
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			s.metrics.panicked(e.labels)
			s.log.Error("job panicked", "job", e.id, "tick", tick,
				"panic", describePanic(v), "stack", string(stack))
			s.obs.Panicked(e.id, tick, v, stack)
		}
		s.metrics.finished()
		s.obs.Finished(e.id, tick, time.Since(start))
	}()
	(*e.run.Load())(ctx, tick)
}

// describePanic names a panic for the log without its value unless the
// runtime produced it: a job's panic value may quote a secret, and logs
// must never hold one. The observer still gets the value.
func describePanic(v any) string {
	if err, ok := v.(runtime.Error); ok {
		return err.Error()
	}
	return fmt.Sprintf("%T value (not logged)", v)
}
