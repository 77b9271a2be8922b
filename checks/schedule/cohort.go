package schedule

import (
	"cmp"
	"slices"
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

// cohort is every job with the same spec and offset.
type cohort struct {
	key   cohortKey
	sched *jittered // when its jobs start
	// jobs is replaced whole by Set; a firing cohort runs the list it saw.
	jobs atomic.Pointer[[]*entry]
}

// timeline is the one cron entry of a spec: cron fires it at the spec's
// ticks and it starts the spec's cohorts at their offsets after the tick.
// Cron sorts all its entries on every wake-up; with one entry per cohort
// (up to 6,000 at a 60 s jitter in 10 ms steps) that sort was a tenth of
// the daemon's CPU at 100,000 checks. With one per spec it holds a few.
type timeline struct {
	s      *Scheduler
	spec   string
	base   cron.Schedule
	cronID cron.EntryID // 0 until scheduled
	// cohorts is sorted by offset and replaced whole by Set. A walk
	// rereads it after each wait, so a cohort added after the one it
	// waits for starts in the current tick; one added before that (the
	// walk has passed its offset) is started by Set's catchUp.
	cohorts atomic.Pointer[[]*cohort]
}

var _ cron.Job = (*timeline)(nil)

// set replaces the timeline's cohorts (Set, under the Scheduler's mutex).
func (tl *timeline) set(cs []*cohort) {
	slices.SortFunc(cs, func(a, b *cohort) int { return cmp.Compare(a.key.offset, b.key.offset) })
	tl.cohorts.Store(&cs)
}

// Run is called by cron, on a goroutine of its own, at a tick of the spec.
// Cron does not say which tick, so it is recomputed: exact as long as this
// goroutine starts before the next one, and a late start can only skip a
// tick, never repeat one (see jobState.claim).
func (tl *timeline) Run() {
	tick := Tick(tl.base, time.Now().In(tl.s.loc))
	if tick.IsZero() {
		return
	}
	tl.walk(tick, 0)
}

// walk starts, in offset order, every cohort with an offset of at least
// from at tick plus its offset, and returns when their runs have. Waiting
// keeps the runs inside cron's count of running jobs (or the Scheduler's
// count of catch-up walks), which is what Stop waits on.
func (tl *timeline) walk(tick time.Time, from time.Duration) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		list := *tl.cohorts.Load()
		i, _ := slices.BinarySearchFunc(list, from, func(c *cohort, d time.Duration) int { return cmp.Compare(c.key.offset, d) })
		if i == len(list) {
			return
		}
		c := list[i]
		if d := time.Until(tick.Add(c.key.offset)); d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			select {
			case <-timer.C:
			case <-tl.s.stopping:
				return
			}
		}
		from = c.key.offset + 1
		for _, e := range *c.jobs.Load() {
			wg.Go(func() { e.runTick(tick) })
		}
	}
}

// catchUp starts those of cs whose start after a tick that has passed is
// still ahead: cron fires a timeline at its next tick only, and a cohort
// added mid-interval starts at its next start, as with a cron entry of
// its own. With a jitter longer than the interval that start may belong
// to an earlier tick than the last.
func (tl *timeline) catchUp(now time.Time, cs []*cohort) {
	type start struct {
		tick time.Time
		c    *cohort
	}
	var due []start
	for _, c := range cs {
		tick := tl.base.Next(now.Add(-c.key.offset))
		if !tick.IsZero() && !tick.After(now) {
			due = append(due, start{tick, c})
		}
	}
	if len(due) == 0 {
		return
	}
	s := tl.s
	s.walks.Go(func() {
		var wg sync.WaitGroup
		defer wg.Wait()
		slices.SortFunc(due, func(a, b start) int { return a.tick.Add(a.c.key.offset).Compare(b.tick.Add(b.c.key.offset)) })
		timer := time.NewTimer(0)
		defer timer.Stop()
		for _, st := range due {
			if d := time.Until(st.tick.Add(st.c.key.offset)); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-s.stopping:
					return
				}
			}
			for _, e := range *st.c.jobs.Load() {
				wg.Go(func() { e.runTick(st.tick) })
			}
		}
	})
}
