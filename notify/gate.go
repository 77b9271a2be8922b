package notify

import "time"

// gate is when a notifier may next be tried. Slack's Retry-After limits
// the app, not the message that got the 429; and a 5xx or a timeout says
// Slack is down, not that one message is bad. Either way every message for
// the notifier waits, and when the gate opens they go again together, so
// the first success after an outage is followed by the whole backlog
// rather than by each message's own, ever longer, backoff.
//
// A gate lives in one process. Entries are deferred in the store to the
// time it opens, so another replica (or this one after a restart) picks
// them up then, under its own gate.
type gate struct {
	limitedUntil time.Time // the latest Retry-After; a success does not lift it
	backoffUntil time.Time // after failed rounds; lifted by a success
	failures     int       // rounds failed since the last success
	// round counts raises of backoffUntil. Messages sent together fail
	// together: only the first failure of a round raises the backoff, or
	// one round of sixteen messages would count as sixteen failures.
	round uint64
	// delivered counts successes, so an entry can tell whether the
	// notifier worked for others since the entry last failed.
	delivered uint64
}

// opensAt is when the gate lets messages through; the zero time or a past
// one means now.
func (g *gate) opensAt() time.Time {
	if g.limitedUntil.After(g.backoffUntil) {
		return g.limitedUntil
	}
	return g.backoffUntil
}

// failing is an entry this dispatcher saw fail with a retryable error.
type failing struct {
	delivered uint64    // the gate's delivered count at the entry's last failure
	own       int       // failures that were the message's, not the notifier's
	at        time.Time // the last failure, to forget entries delivered elsewhere
}

// gateFor returns notifier's gate. Called with d.mu held.
func (d *Dispatcher) gateFor(notifier string) *gate {
	g := d.gates[notifier]
	if g == nil {
		g = &gate{}
		d.gates[notifier] = g
	}
	return g
}

// admit reports when notifier's gate opens if it is closed at now (the
// entry then waits for it without being sent), and otherwise the round an
// attempt starting now belongs to.
func (d *Dispatcher) admit(notifier string, now time.Time) (closedUntil time.Time, round uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.gateFor(notifier)
	if at := g.opensAt(); at.After(now) {
		return at, 0
	}
	return time.Time{}, g.round
}

// limited closes notifier's gate for a Retry-After of ra and returns when
// the entry that got it may go again.
func (d *Dispatcher) limited(notifier string, now time.Time, ra time.Duration) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.gateFor(notifier)
	until := now.Add(ra)
	if until.After(g.limitedUntil) {
		g.limitedUntil = until
	}
	return until
}

// backedOff records a retryable failure of entry id, an attempt of round,
// and returns when the entry may go again.
func (d *Dispatcher) backedOff(notifier, id string, round uint64, now time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.gateFor(notifier)
	d.forgetFailing(now)
	f := d.failing[id]
	if f == nil {
		f = &failing{}
		d.failing[id] = f
	} else if g.delivered > f.delivered {
		// Others went through since this one last failed: the trouble is
		// the message's. It backs off on its own and holds nobody else up,
		// or one bad message would keep the notifier's gate at its first
		// step and be retried every second.
		f.own++
		f.delivered, f.at = g.delivered, now
		return now.Add(Backoff(f.own, d.opts.MaxBackoff))
	}
	f.delivered, f.at = g.delivered, now
	if round == g.round || !g.opensAt().After(now) {
		g.failures++
		g.round++
		g.backoffUntil = now.Add(Backoff(g.failures, d.opts.MaxBackoff))
	}
	return g.opensAt()
}

// succeeded opens notifier's backoff (not a Retry-After) and forgets id's
// failures. Called with d.mu held.
func (d *Dispatcher) succeeded(notifier, id string) {
	g := d.gateFor(notifier)
	g.delivered++
	g.failures = 0
	g.backoffUntil = time.Time{}
	delete(d.failing, id)
}

// forgetFailing drops entries not seen failing for longer than any wait
// this dispatcher sets: another replica delivered them. Called with d.mu
// held.
func (d *Dispatcher) forgetFailing(now time.Time) {
	stale := now.Add(-2*d.opts.MaxBackoff - d.opts.Lease)
	for id, f := range d.failing {
		if f.at.Before(stale) {
			delete(d.failing, id)
		}
	}
}
