package daemon

import (
	"context"
	"time"

	"github.com/credmon/credmon/checks/clock"
)

const clockJobID = "clock"

// clockRunner checks the local clock against NTP. Every replica checks its
// own clock: skew is a property of the host, so the tick is not claimed.
func (d *Daemon) clockRunner(checker *clock.Checker) func(ctx context.Context, tick time.Time) {
	return func(ctx context.Context, tick time.Time) {
		r, off := checker.Check(ctx)
		r.Tick = tick
		if off.Known {
			d.metrics.ClockOffset(off.Median)
		}
		d.mu.Lock()
		d.clockOffset = off
		d.mu.Unlock()
		d.record(ctx, r)
	}
}

// ntpOffset is the clock check's last offset (NTP time minus ours), for
// the diagnosis of a JWT rejected by time; false until it is known.
func (d *Daemon) ntpOffset() (time.Duration, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.clockOffset.Median, d.clockOffset.Known
}
