package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// stopGrace is how long Stop waits for cancelled runs to return once its
// context has expired, before it gives up on them.
const stopGrace = time.Second

// ErrStopped is returned by Set after Stop.
var ErrStopped = errors.New("schedule: scheduler stopped")

// Job is one scheduled piece of work, typically one check.
type Job struct {
	ID   string
	Spec string // see Parse
	// Labels name the job in Metrics' per-job series.
	Labels Labels
	// Timeout bounds each run through its context; 0 means Options.Timeout.
	Timeout time.Duration
	// Jitter is the window the start offset is drawn from; 0 means
	// Options.Jitter, negative means none.
	Jitter time.Duration
	// Run does the work of one tick. tick is the scheduled time, without
	// the jitter offset: the same on every replica, fit for a claim key.
	Run func(ctx context.Context, tick time.Time)
}

// Options configure a Scheduler. The zero value is usable.
type Options struct {
	// MaxConcurrency caps runs in progress across all jobs; 0 means no cap.
	// A run waiting for a slot shows as lag, not as a skip.
	MaxConcurrency int
	Jitter         time.Duration  // default for Job.Jitter
	Timeout        time.Duration  // default for Job.Timeout; 0 means none
	Metrics        *Metrics       // the scheduler's series; nil records none
	Observer       Observer       // told about every run, for tests and embedders; nil means NopObserver
	Logger         *slog.Logger   // nil discards
	Location       *time.Location // cron expressions are read here; nil means UTC
}

// Scheduler runs Jobs on their schedules. It runs once: Start, any number
// of Set calls, Stop.
type Scheduler struct {
	cron     *cron.Cron
	loc      *time.Location
	jitter   time.Duration
	timeout  time.Duration
	obs      Observer
	metrics  *Metrics
	log      *slog.Logger
	slots    chan struct{} // nil without a cap
	stopping chan struct{} // closed when Stop begins: no new runs start
	runCtx   context.Context
	cancel   context.CancelFunc
	inflight atomic.Int64   // runs between cron's call and their return
	walks    sync.WaitGroup // catch-up walks (timeline.catchUp), outside cron's count

	mu        sync.Mutex // serialises Set, Start and Stop
	entries   map[string]*entry
	cohorts   map[cohortKey]*cohort
	timelines map[string]*timeline // by spec
	states    map[string]*jobState
	started   bool
	stopped   bool
}

// New returns a Scheduler with no jobs; call Set and Start.
func New(opts Options) *Scheduler {
	s := &Scheduler{
		loc:       opts.Location,
		jitter:    opts.Jitter,
		timeout:   opts.Timeout,
		obs:       opts.Observer,
		metrics:   opts.Metrics,
		log:       opts.Logger,
		stopping:  make(chan struct{}),
		entries:   map[string]*entry{},
		cohorts:   map[cohortKey]*cohort{},
		timelines: map[string]*timeline{},
		states:    map[string]*jobState{},
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.obs == nil {
		s.obs = NopObserver{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxConcurrency > 0 {
		s.slots = make(chan struct{}, opts.MaxConcurrency)
	}
	s.runCtx, s.cancel = context.WithCancel(context.Background())
	// No chain: cron v3's SkipIfStillRunning leaks its token on a panic and
	// cron does not recover by default; entry.runTick does both itself.
	s.cron = cron.New(cron.WithLocation(s.loc), cron.WithLogger(cronLogger{s.log}))
	return s
}

// Start begins firing. It does nothing after Stop or a second time.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return
	}
	s.started = true
	s.cron.Start()
	now := time.Now().In(s.loc)
	for _, tl := range s.timelines {
		tl.catchUp(now, *tl.cohorts.Load())
	}
}

// Set replaces the job set. Jobs whose ID, spec, jitter and timeout are
// unchanged keep their place in the schedule and their running state, so
// a reload neither repeats nor drops a tick; their Run is replaced, so the
// next tick runs the new code. Removed jobs stop firing; their runs in
// progress finish. Every job is checked first: on any error nothing changes.
func (s *Scheduler) Set(jobs []Job) error {
	planned := make([]*entry, 0, len(jobs))
	seen := make(map[string]bool, len(jobs))
	var errs []error
	for i, j := range jobs {
		e, err := s.plan(j)
		if err == nil && seen[j.ID] {
			err = fmt.Errorf("duplicate job ID")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule: job %d %q: %w", i, j.ID, err))
			continue
		}
		seen[j.ID] = true
		planned = append(planned, e)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	next := make(map[string]*entry, len(planned))
	touched := map[*cohort]bool{}
	for _, e := range planned {
		old := s.entries[e.id]
		if old != nil && old.sameSchedule(e) {
			old.run.Store(e.run.Load())
			next[e.id] = old
			continue
		}
		if old != nil {
			old.removed.Store(true)
			touched[old.cohort] = true
		}
		e.state = s.states[e.id]
		if e.state == nil {
			e.state = &jobState{}
			s.states[e.id] = e.state
		}
		e.cohort = s.cohort(e)
		touched[e.cohort] = true
		next[e.id] = e
	}
	for id, old := range s.entries {
		if next[id] == nil {
			old.removed.Store(true)
			touched[old.cohort] = true
		}
	}
	s.entries = next

	members := make(map[*cohort][]*entry, len(touched))
	for _, e := range next {
		if touched[e.cohort] {
			members[e.cohort] = append(members[e.cohort], e)
		}
	}
	changed := map[*timeline]bool{}
	for c := range touched {
		jobs := members[c]
		if len(jobs) == 0 {
			delete(s.cohorts, c.key)
		} else {
			c.jobs.Store(&jobs)
		}
		changed[s.timelines[c.key.spec]] = true
	}
	for tl := range changed {
		var cs []*cohort
		listed := map[*cohort]bool{}
		for _, c := range *tl.cohorts.Load() {
			listed[c] = true
			if s.cohorts[c.key] == c {
				cs = append(cs, c)
			}
		}
		old := len(cs)
		for c := range touched {
			if c.key.spec == tl.spec && s.cohorts[c.key] == c && !listed[c] {
				cs = append(cs, c)
			}
		}
		// A copy: set sorts cs in place.
		added := slices.Clone(cs[old:])
		if len(cs) == 0 {
			if tl.cronID != 0 {
				s.cron.Remove(tl.cronID)
			}
			delete(s.timelines, tl.spec)
			continue
		}
		tl.set(cs)
		if tl.cronID == 0 {
			tl.cronID = s.cron.Schedule(tl.base, tl)
		}
		if s.started && len(added) > 0 {
			// Start only the new cohorts early; the others wait for
			// their tick as before.
			tl.catchUp(time.Now().In(s.loc), added)
		}
	}
	// Running state outlives a removal until the last run ends, so a job
	// removed and re-added meanwhile still cannot overlap with itself.
	for id, st := range s.states {
		if next[id] == nil && !st.running.Load() {
			delete(s.states, id)
		}
	}
	return nil
}

// cohort returns the cohort e starts with, creating it and its timeline
// unscheduled.
func (s *Scheduler) cohort(e *entry) *cohort {
	key := cohortKey{spec: e.spec, offset: Offset(e.id, e.jitter)}
	c := s.cohorts[key]
	if c == nil {
		tl := s.timelines[e.spec]
		if tl == nil {
			base, _ := Parse(e.spec) // validated by plan
			tl = &timeline{s: s, spec: e.spec, base: base}
			tl.cohorts.Store(&[]*cohort{})
			s.timelines[e.spec] = tl
		}
		c = &cohort{key: key, sched: &jittered{base: tl.base, offset: key.offset}}
		s.cohorts[key] = c
	}
	return c
}

// plan validates j and builds its entry without touching the Scheduler.
func (s *Scheduler) plan(j Job) (*entry, error) {
	if j.ID == "" {
		return nil, errors.New("empty job ID")
	}
	if j.Run == nil {
		return nil, errors.New("no Run func")
	}
	if j.Timeout < 0 {
		return nil, errors.New("negative timeout")
	}
	if _, err := Parse(j.Spec); err != nil {
		return nil, fmt.Errorf("schedule %q: %w", j.Spec, err)
	}
	e := &entry{s: s, id: j.ID, labels: j.Labels, spec: j.Spec, jitter: j.Jitter, timeout: j.Timeout}
	if e.jitter == 0 {
		e.jitter = s.jitter
	}
	if e.timeout == 0 {
		e.timeout = s.timeout
	}
	run := j.Run // &j.Run would keep all of j on the heap for each entry
	e.run.Store(&run)
	return e, nil
}

// Next returns the job's next scheduled start (tick plus offset), or the
// zero time for an unknown job or a schedule that never fires again.
func (s *Scheduler) Next(id string) time.Time {
	s.mu.Lock()
	e := s.entries[id]
	s.mu.Unlock()
	if e == nil {
		return time.Time{}
	}
	return e.cohort.sched.Next(time.Now().In(s.loc))
}

// Stop stops firing and waits for runs in progress to finish; runs
// waiting for a concurrency slot give up. If ctx expires first, the runs'
// contexts are cancelled, Stop waits up to a second more, and returns an
// error saying how many were still running and how many of those ignored
// the cancellation: only those outlive Stop. Calling Stop again returns nil.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.stopping)
	// After cron.Stop returns cron starts no job, and no catch-up walk
	// begins once stopped is set, so these two waits cover every run.
	cronDrained := s.cron.Stop()
	s.mu.Unlock()
	drained := make(chan struct{})
	go func() {
		<-cronDrained.Done()
		s.walks.Wait()
		close(drained)
	}()

	select {
	case <-drained:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	running := s.inflight.Load()
	s.cancel()
	grace := time.NewTimer(stopGrace)
	defer grace.Stop()
	select {
	case <-drained:
		return fmt.Errorf("schedule: stop: %d run(s) still running at the deadline were cancelled: %w",
			running, ctx.Err())
	case <-grace.C:
		return fmt.Errorf("schedule: stop: %d run(s) still running at the deadline were cancelled, %d ignored it and are still running: %w",
			running, s.inflight.Load(), ctx.Err())
	}
}

// cronLogger sends cron's errors to slog and drops its chatter, which is
// a line per activation.
type cronLogger struct{ log *slog.Logger }

func (cronLogger) Info(string, ...any) {}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
