package daemon

import (
	"context"
	"time"

	"github.com/credmon/credmon/checks"
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
		d.clock, d.clockOffset = &r, off
		d.mu.Unlock()
		d.record(ctx, r)
	}
}

// clockResult is the latest clock result and offset, for the snapshot.
func (d *Daemon) clockResult() (*checks.Result, *time.Duration) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.clock == nil || !d.clockOffset.Known {
		return d.clock, nil
	}
	off := d.clockOffset.Median
	return d.clock, &off
}
