package schedule

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// cohortKey groups jobs that start at the same instants.
type cohortKey struct {
	spec   string
	offset time.Duration
}

// cohort is one cron entry for every job with the same spec and offset.
// Cron sorts all its entries on every wake-up; with one entry per job,
// 10,000 checks cost it more CPU than the probes. Grouped, it holds one
// entry per distinct start time.
type cohort struct {
	s      *Scheduler
	key    cohortKey
	sched  *jittered
	cronID cron.EntryID // 0 until scheduled
	// jobs is replaced whole by Set; a firing cohort runs the list it saw.
	jobs atomic.Pointer[[]*entry]
}

var _ cron.Job = (*cohort)(nil)

// Run is called by cron, on a goroutine of its own, at tick + offset. Cron
// does not say which activation this is, so the tick is recomputed from
// the schedule: exact as long as this goroutine starts before the cohort's
// next activation, and a late start can only skip a tick, never repeat one
// (see jobState.claim).
func (c *cohort) Run() {
	tick := Tick(c.sched.base, time.Now().In(c.s.loc).Add(-c.sched.offset))
	if tick.IsZero() {
		return
	}
	// Waiting here keeps the job runs inside cron's own count of running
	// jobs, which is what Stop waits on.
	var wg sync.WaitGroup
	for _, e := range *c.jobs.Load() {
		wg.Go(func() { e.runTick(tick) })
	}
	wg.Wait()
}
