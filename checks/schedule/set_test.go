package schedule

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSetKeepsUnchangedJobsAndSwapsRun(t *testing.T) {
	rec := newRecorder()
	type run struct {
		version int
		tick    time.Time
	}
	runs := make(chan run, 256)
	job := func(version int) Job {
		return Job{ID: "steady", Spec: "@every 20ms", Jitter: 5 * time.Millisecond, Run: func(_ context.Context, tick time.Time) {
			runs <- run{version, tick}
		}}
	}
	s := start(t, Options{Observer: rec}, job(1))
	before := s.entries["steady"]
	first := recv(t, runs)

	for v := 2; v <= 50; v++ {
		if err := s.Set([]Job{job(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if s.entries["steady"] != before {
		t.Fatal("an unchanged job got a new cron entry")
	}
	if n := len(s.cron.Entries()); n != 1 {
		t.Fatalf("cron holds %d entries, want 1", n)
	}
	last := first.tick
	for {
		r := recv(t, runs)
		if !r.tick.After(last) {
			t.Fatalf("tick %v ran after tick %v: a reload repeated a tick", r.tick, last)
		}
		last = r.tick
		if r.version == 50 {
			break // the reloaded Run is the one that runs now
		}
	}
}

func TestSetReplacesChangedAndRemovesGoneJobs(t *testing.T) {
	s := New(Options{})
	if err := s.Set([]Job{
		{ID: "stays", Spec: "@every 1m", Run: nop},
		{ID: "changes", Spec: "@every 1m", Run: nop},
		{ID: "goes", Spec: "@every 1m", Run: nop},
	}); err != nil {
		t.Fatal(err)
	}
	stays, changes := s.entries["stays"], s.entries["changes"]
	if err := s.Set([]Job{
		{ID: "stays", Spec: "@every 1m", Run: nop},
		{ID: "changes", Spec: "@every 2m", Run: nop},
		{ID: "new", Spec: "@hourly", Run: nop},
	}); err != nil {
		t.Fatal(err)
	}
	if s.entries["stays"] != stays {
		t.Error("unchanged job was replaced")
	}
	if c := s.entries["changes"]; c == changes || c.spec != "@every 2m" {
		t.Error("changed job kept its old entry")
	} else if c.state != changes.state {
		t.Error("changed job lost its running state; it could overlap its old run")
	}
	if !s.Next("goes").IsZero() || s.entries["goes"] != nil {
		t.Error("removed job still scheduled")
	}
	if n := len(s.cron.Entries()); n != 3 {
		t.Errorf("cron holds %d entries, want 3", n)
	}
}

func TestSetRejectsInvalidJobsAtomically(t *testing.T) {
	s := New(Options{})
	if err := s.Set([]Job{{ID: "kept", Spec: "@every 1m", Run: nop}}); err != nil {
		t.Fatal(err)
	}
	kept := s.entries["kept"]
	bad := [][]Job{
		{{ID: "a", Spec: "@every 1m", Run: nop}, {ID: "b", Spec: "every minute", Run: nop}},
		{{ID: "a", Spec: "@every 1m", Run: nop}, {ID: "a", Spec: "@every 2m", Run: nop}},
		{{ID: "", Spec: "@every 1m", Run: nop}},
		{{ID: "a", Spec: "@every 1m"}},
		{{ID: "a", Spec: "@every 1m", Timeout: -time.Second, Run: nop}},
	}
	for _, jobs := range bad {
		if err := s.Set(jobs); err == nil {
			t.Errorf("Set(%v) accepted", jobs)
		}
		if len(s.entries) != 1 || s.entries["kept"] != kept || len(s.cron.Entries()) != 1 {
			t.Fatalf("a rejected Set changed the schedule: %v", s.entries)
		}
	}
	err := s.Set([]Job{{ID: "prod/x", Spec: "61 * * * *", Run: nop}})
	if err == nil || !strings.Contains(err.Error(), `"prod/x"`) {
		t.Fatalf("error %v does not name the job", err)
	}
}

func TestJobsStartingTogetherShareOneCronEntry(t *testing.T) {
	s := New(Options{})
	jobs := make([]Job, 100)
	for i := range jobs {
		jobs[i] = Job{ID: fmt.Sprintf("check-%d", i), Spec: "@every 1m", Run: nop}
	}
	if err := s.Set(jobs); err != nil {
		t.Fatal(err)
	}
	if n := len(s.cron.Entries()); n != 1 {
		t.Fatalf("100 jobs with one start time use %d cron entries, want 1", n)
	}
	gone := s.entries[jobs[0].ID]
	if err := s.Set(jobs[1:]); err != nil {
		t.Fatal(err)
	}
	if !gone.removed.Load() {
		t.Fatal("removed job not marked for cohorts already firing")
	}
	if n := len(*gone.cohort.jobs.Load()); n != 99 {
		t.Fatalf("cohort lists %d jobs, want 99", n)
	}
	if err := s.Set(nil); err != nil {
		t.Fatal(err)
	}
	if n := len(s.cron.Entries()); n != 0 || len(s.cohorts) != 0 {
		t.Fatalf("%d cron entries, %d cohorts left with no jobs", n, len(s.cohorts))
	}
}

func TestRemovedJobStopsFiring(t *testing.T) {
	var gone atomic.Int64
	kept := make(chan time.Time, 64)
	keep := Job{ID: "keep", Spec: "@every 30ms", Jitter: -1, Run: func(_ context.Context, tick time.Time) { kept <- tick }}
	s := start(t, Options{}, keep,
		Job{ID: "gone", Spec: "@every 30ms", Jitter: -1, Run: func(context.Context, time.Time) { gone.Add(1) }})
	recv(t, kept)
	if err := s.Set([]Job{keep}); err != nil {
		t.Fatal(err)
	}
	n := gone.Load()
	for i := 0; i < 4; i++ {
		recv(t, kept)
	}
	// One run may have been on its way when Set returned; not more.
	if after := gone.Load(); after > n+1 {
		t.Fatalf("removed job ran %d more times", after-n)
	}
}

// A job added while the Scheduler runs starts at its offset in the tick
// under way when that start is still ahead, as a job of its own cron entry
// would, not an interval later: both for a spec new to the Scheduler and
// for one whose timeline already runs other cohorts, later ones among them.
func TestJobAddedWhileRunningStartsInTheCurrentTick(t *testing.T) {
	const spec, every = "@every 2s", 2 * time.Second
	base, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	// pick returns an ID whose start in the current tick is 0.3–1.5 s
	// ahead (an ID's offset is a hash: of 1,000 names some land there),
	// and that tick. In a tick's last 0.3 s none can, so it waits for the
	// next tick (the wall clock, not the Scheduler).
	pick := func(prefix string) (string, time.Time) {
		for {
			now := time.Now()
			tick := Tick(base, now)
			for i := range 1000 {
				id := fmt.Sprintf("%s-%d", prefix, i)
				ahead := tick.Add(Offset(id, every)).Sub(now)
				if ahead > 300*time.Millisecond && ahead < 1500*time.Millisecond {
					return id, tick
				}
			}
			time.Sleep(time.Until(tick.Add(every)))
		}
	}
	for _, withOthers := range []bool{false, true} {
		t.Run(fmt.Sprintf("others=%v", withOthers), func(t *testing.T) {
			ran := make(chan time.Time, 16)
			var jobs []Job
			if withOthers {
				for i := range 40 { // cohorts before and after the new one
					jobs = append(jobs, Job{ID: fmt.Sprintf("other-%d", i), Spec: spec, Jitter: every, Run: nop})
				}
			} else {
				jobs = append(jobs, Job{ID: "hourly", Spec: "@hourly", Run: nop})
			}
			s := start(t, Options{}, jobs...)
			id, tick := pick("added")
			jobs = append(jobs, Job{ID: id, Spec: spec, Jitter: every, Run: func(_ context.Context, tick time.Time) { ran <- tick }})
			if err := s.Set(jobs); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, ran); !got.Equal(tick) {
				t.Fatalf("the added job first ran for tick %v, want the tick under way %v", got, tick)
			}
		})
	}
}
