package daemon

import (
	"strings"
	"time"
)

// observer turns scheduler events into metrics and logs.
type observer struct{ d *Daemon }

func splitKey(id string) (env, check string) {
	env, check, _ = strings.Cut(id, "/")
	return env, check
}

func (o *observer) Started(id string, _, _ time.Time, lag time.Duration) {
	env, check := splitKey(id)
	o.d.metrics.SchedulerStarted(env, check, lag)
}

func (o *observer) Finished(string, time.Time, time.Duration) { o.d.metrics.SchedulerFinished() }

func (o *observer) Skipped(id string, tick time.Time) {
	env, check := splitKey(id)
	o.d.metrics.Skipped(env, check)
	o.d.log.Warn("run skipped: the previous run is still going", "check", id, "tick", tick.UTC().Format(time.RFC3339))
}

func (o *observer) Panicked(id string, tick time.Time, v any, stack []byte) {
	env, check := splitKey(id)
	o.d.metrics.Panicked(env, check)
	o.d.log.Error("probe panicked; other checks keep running", "check", id, "tick", tick.UTC().Format(time.RFC3339), "panic", v, "stack", string(stack))
}
