package schedule

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestOffsetsOfOneSpecShareOneCronEntryAndStartAtTheirOffsets(t *testing.T) {
	const every, jitter = 200 * time.Millisecond, 200 * time.Millisecond
	type began struct {
		id         string
		tick, when time.Time
	}
	starts := make(chan began, 1024)
	var jobs []Job
	offsets := map[time.Duration]bool{}
	for i := range 30 {
		id := fmt.Sprintf("prod/c%d", i)
		offsets[Offset(id, jitter)] = true
		jobs = append(jobs, Job{ID: id, Spec: "@every 200ms", Run: func(_ context.Context, tick time.Time) {
			starts <- began{id, tick, time.Now()}
		}})
	}
	jobs = append(jobs, Job{ID: "hourly", Spec: "@hourly", Run: nop})
	s := start(t, Options{Jitter: jitter}, jobs...)
	if len(offsets) < 10 {
		t.Fatalf("30 jobs got only %d distinct offsets; the test needs many", len(offsets))
	}
	if n := len(s.cron.Entries()); n != 2 {
		t.Fatalf("%d distinct starts of two specs use %d cron entries, want 2", len(offsets)+1, n)
	}
	ticks := map[string]map[time.Time]bool{}
	for done := 0; done < 30; {
		st := recv(t, starts)
		if st.tick.UnixNano()%int64(every) != 0 {
			t.Fatalf("%s ran for tick %v, not a multiple of %v", st.id, st.tick, every)
		}
		if due := st.tick.Add(Offset(st.id, jitter)); st.when.Before(due) {
			t.Fatalf("%s started at %v, before its start %v (tick plus offset)", st.id, st.when, due)
		}
		if ticks[st.id] == nil {
			ticks[st.id] = map[time.Time]bool{}
		}
		if ticks[st.id][st.tick] {
			t.Fatalf("%s ran twice for tick %v", st.id, st.tick)
		}
		ticks[st.id][st.tick] = true
		if len(ticks[st.id]) == 2 {
			done++ // every job runs on consecutive ticks, not once
		}
	}
}
