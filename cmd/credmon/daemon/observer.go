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

// Panicked only counts: the scheduler, which logs into the daemon's logger,
// has already logged the panic once with its stack, naming the value's type
// and never its text — a panic value may hold a request or a secret.
func (o *observer) Panicked(id string, _ time.Time, _ any, _ []byte) {
	env, check := splitKey(id)
	o.d.metrics.Panicked(env, check)
}
