package schedule

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// wait bounds every wait for a signal; generous because the machine is
// shared, and never a measure of anything.
const wait = 10 * time.Second

func nop(context.Context, time.Time) {}

type event struct {
	kind    string // started, finished, skipped, panicked
	id      string
	tick    time.Time
	started time.Time
	lag     time.Duration
	v       any
	stack   []byte
}

// recorder is an Observer that hands events to the test in order.
type recorder struct {
	events  chan event
	dropped atomic.Int64
}

func newRecorder() *recorder { return &recorder{events: make(chan event, 4096)} }

func (r *recorder) send(e event) {
	select {
	case r.events <- e:
	default:
		r.dropped.Add(1) // an Observer must not block
	}
}

func (r *recorder) Started(id string, tick, started time.Time, lag time.Duration) {
	r.send(event{kind: "started", id: id, tick: tick, started: started, lag: lag})
}
func (r *recorder) Finished(id string, tick time.Time, _ time.Duration) {
	r.send(event{kind: "finished", id: id, tick: tick})
}
func (r *recorder) Skipped(id string, tick time.Time) {
	r.send(event{kind: "skipped", id: id, tick: tick})
}
func (r *recorder) Panicked(id string, tick time.Time, v any, stack []byte) {
	r.send(event{kind: "panicked", id: id, tick: tick, v: v, stack: stack})
}

// next returns the next event matching kind and id, failing after wait.
func (r *recorder) next(t *testing.T, kind, id string) event {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case e := <-r.events:
			if e.kind == kind && e.id == id {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event for %q within %v", kind, id, wait)
		}
	}
}

func start(t *testing.T, opts Options, jobs ...Job) *Scheduler {
	t.Helper()
	s := New(opts)
	if err := s.Set(jobs); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("nothing received within %v", wait)
		panic("unreachable")
	}
}

func TestTicksAlignedAcrossSchedulers(t *testing.T) {
	const every = 100 * time.Millisecond
	job := func(ticks chan<- time.Time) Job {
		return Job{ID: "prod/payments", Spec: "@every 100ms", Jitter: 40 * time.Millisecond,
			Run: func(_ context.Context, tick time.Time) {
				select {
				case ticks <- tick:
				default:
				}
			}}
	}
	aTicks, bTicks := make(chan time.Time, 64), make(chan time.Time, 64)
	start(t, Options{}, job(aTicks))
	first := recv(t, aTicks)
	// B starts a tick later and off the grid.
	start(t, Options{}, job(bTicks))
	b := recv(t, bTicks)

	for _, tk := range []time.Time{first, b} {
		if tk.UnixNano()%int64(every) != 0 {
			t.Fatalf("tick %v is not a multiple of %v since the epoch", tk, every)
		}
	}
	for {
		a := recv(t, aTicks)
		if a.Equal(b) {
			return // both replicas ran the same tick
		}
		if a.After(b) {
			t.Fatalf("replica A went from before %v to %v without that tick", b, a)
		}
	}
}

func TestJobGetsExactTickAndStartsAfterOffset(t *testing.T) {
	rec := newRecorder()
	ticks := make(chan time.Time, 8)
	start(t, Options{Observer: rec, Jitter: 300 * time.Millisecond},
		Job{ID: "cron-seconds", Spec: "* * * * * *", Run: func(_ context.Context, tick time.Time) { ticks <- tick }})
	e := rec.next(t, "started", "cron-seconds")
	tick := recv(t, ticks)
	if !tick.Equal(e.tick) {
		t.Fatalf("job got tick %v, observer %v", tick, e.tick)
	}
	if tick.Nanosecond() != 0 {
		t.Fatalf("tick %v of a per-second cron spec is not a whole second", tick)
	}
	if tick.Location() != time.UTC {
		t.Fatalf("tick in %v, want the scheduler's UTC", tick.Location())
	}
	if due := tick.Add(Offset("cron-seconds", 300*time.Millisecond)); e.started.Before(due) {
		t.Fatalf("started %v before tick+offset %v", e.started, due)
	} else if want := e.started.Sub(due); e.lag != want {
		t.Fatalf("observer lag %v, want started - (tick + offset) = %v", e.lag, want)
	}
}

func TestOverlapIsSkippedAndCounted(t *testing.T) {
	rec := newRecorder()
	release := make(chan struct{})
	var runs atomic.Int64
	start(t, Options{Observer: rec}, Job{ID: "slow", Spec: "@every 50ms", Run: func(ctx context.Context, _ time.Time) {
		if runs.Add(1) == 1 {
			<-release
		}
	}})
	first := rec.next(t, "started", "slow")
	skip := rec.next(t, "skipped", "slow")
	if !skip.tick.After(first.tick) {
		t.Fatalf("skipped tick %v not after the running tick %v", skip.tick, first.tick)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs while the first was blocked, want 1", n)
	}
	close(release)
	rec.next(t, "finished", "slow")
	if again := rec.next(t, "started", "slow"); !again.tick.After(skip.tick) {
		t.Fatalf("run after the overlap has tick %v, not after the skipped %v", again.tick, skip.tick)
	}
}

func TestPanicIsReportedAndSchedulingGoesOn(t *testing.T) {
	rec := newRecorder()
	okRuns := make(chan time.Time, 64)
	start(t, Options{Observer: rec},
		Job{ID: "boom", Spec: "@every 50ms", Run: func(context.Context, time.Time) { panic("probe exploded") }},
		Job{ID: "fine", Spec: "@every 50ms", Run: func(_ context.Context, tick time.Time) {
			select {
			case okRuns <- tick:
			default:
			}
		}},
	)
	p := rec.next(t, "panicked", "boom")
	if p.v != "probe exploded" {
		t.Fatalf("panic value %v", p.v)
	}
	if !strings.Contains(string(p.stack), "TestPanicIsReportedAndSchedulingGoesOn") {
		t.Fatalf("stack does not show the panicking job:\n%s", p.stack)
	}
	if f := rec.next(t, "finished", "boom"); !f.tick.Equal(p.tick) {
		t.Fatalf("finished tick %v, panicked tick %v", f.tick, p.tick)
	}
	// A leaked overlap token would turn every later tick into a skip.
	if p2 := rec.next(t, "panicked", "boom"); !p2.tick.After(p.tick) {
		t.Fatalf("second panic tick %v not after %v", p2.tick, p.tick)
	}
	a := recv(t, okRuns)
	if b := recv(t, okRuns); !b.After(a) {
		t.Fatalf("other job's ticks %v then %v", a, b)
	}
}

func TestMaxConcurrencyIsNeverExceeded(t *testing.T) {
	const limit = 2
	rec := newRecorder()
	var cur, peak atomic.Int64
	release := make(chan struct{})
	var jobs []Job
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		jobs = append(jobs, Job{ID: id, Spec: "@every 20ms", Run: func(context.Context, time.Time) {
			n := cur.Add(1)
			defer cur.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
		}})
	}
	start(t, Options{Observer: rec, MaxConcurrency: limit}, jobs...)
	// Hold the slots until a job that never started is skipped: its run was
	// waiting for a slot, so the cap was under pressure.
	started := map[string]bool{}
	for {
		e := recv(t, rec.events)
		if e.kind == "started" {
			started[e.id] = true
		}
		if e.kind == "skipped" && !started[e.id] {
			break
		}
	}
	close(release)
	seen := map[string]bool{}
	for len(seen) < len(jobs) {
		seen[recv(t, rec.events).id] = true
	}
	if p := peak.Load(); p != limit {
		t.Fatalf("peak concurrency %d, want exactly the limit %d", p, limit)
	}
}

func TestTimeoutCancelsTheRun(t *testing.T) {
	errs := make(chan error, 8)
	start(t, Options{Timeout: time.Hour}, Job{ID: "hang", Spec: "@every 50ms", Timeout: 30 * time.Millisecond,
		Run: func(ctx context.Context, _ time.Time) {
			if _, ok := ctx.Deadline(); !ok {
				errs <- errors.New("run context has no deadline")
				return
			}
			<-ctx.Done()
			errs <- ctx.Err()
		}})
	if err := recv(t, errs); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("run ended with %v, want deadline exceeded", err)
	}
}

func TestNextFollowsTheSchedule(t *testing.T) {
	const every = 100 * time.Millisecond
	rec := newRecorder()
	s := start(t, Options{Observer: rec, Jitter: 30 * time.Millisecond},
		Job{ID: "n", Spec: "@every 100ms", Run: nop})
	off := Offset("n", 30*time.Millisecond)
	for i := 0; i < 3; i++ {
		e := rec.next(t, "started", "n")
		// Cron may not have moved on from this run's start yet, never back.
		n := s.Next("n")
		if n.Before(e.tick.Add(off)) {
			t.Fatalf("Next = %v, before the start of the run in progress %v", n, e.tick.Add(off))
		}
		if n.Add(-off).UnixNano()%int64(every) != 0 {
			t.Fatalf("Next = %v, not an aligned tick plus offset %v", n, off)
		}
	}
	if !s.Next("unknown").IsZero() {
		t.Fatal("Next of an unknown job is not zero")
	}
}

func TestPanicLogNeverHoldsTheValue(t *testing.T) {
	const secret = "sk_live_FAKE0000000000000000a1b2"
	var buf syncBuffer
	rec := newRecorder()
	log := slog.New(slog.NewTextHandler(&buf, nil))
	start(t, Options{Observer: rec, Logger: log},
		Job{ID: "leaky", Spec: "@every 50ms", Run: func(context.Context, time.Time) { panic("bad key " + secret) }},
		Job{ID: "index", Spec: "@every 50ms", Run: func(context.Context, time.Time) {
			var xs []int
			_ = xs[len(secret)]
		}})
	rec.next(t, "finished", "leaky")
	rec.next(t, "finished", "index")
	out := buf.String()
	if strings.Contains(out, secret) || strings.Contains(out, "sk_live_") {
		t.Fatalf("log holds the panic value:\n%s", out)
	}
	if !strings.Contains(out, "job panicked") || !strings.Contains(out, "string value (not logged)") {
		t.Fatalf("log does not report the panic:\n%s", out)
	}
	if !strings.Contains(out, "index out of range") {
		t.Fatalf("runtime panics should be logged as is:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer the runs' goroutines may log into.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
