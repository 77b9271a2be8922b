package fallback

import (
	"context"
	"time"

	"github.com/credmon/credmon/store"
)

// outboxAck is an Ack the primary missed.
type outboxAck struct{ id, owner string }

// Enqueue adds e to the primary, or to local while it is down; the probe
// moves local entries into the primary when it returns. An entry the
// primary may have taken after all (Options.Uncertain) is held locally
// for Options.UncertainHold first: the primary's copy, if there is one,
// is then the only one delivered, unless the outage outlasts the hold.
func (s *Store) Enqueue(ctx context.Context, e store.OutboxEntry) error {
	if s.up.Load() {
		down, err := s.onPrimary(ctx, func(ctx context.Context) error { return s.primary.Enqueue(ctx, e) })
		if !down {
			return err
		}
		if s.opts.Uncertain(err) {
			holdFor(&e, s.opts.UncertainHold)
			s.log.Info("store: a message the shared store may have taken is held locally before it goes out from here",
				"id", e.ID, "hold", s.opts.UncertainHold, "err", err)
		}
	}
	if s.opts.OutageHold > 0 {
		s.mu.Lock()
		late := !s.downSince.IsZero() && time.Since(s.downSince) >= s.opts.OutageHoldAfter
		s.mu.Unlock()
		if late {
			holdFor(&e, s.opts.OutageHold)
		}
	}
	return s.local.Enqueue(ctx, e)
}

// holdFor keeps e from being leased for d from now, or longer if its
// NotBefore says so.
func holdFor(e *store.OutboxEntry, d time.Duration) {
	if hold := time.Now().Add(d); e.NotBefore.Before(hold) {
		e.NotBefore = hold
	}
}

// superseded reports whether e, held locally, was decided from
// state another replica changed through the primary during the outage.
func (s *Store) superseded(e store.OutboxEntry) bool {
	if s.opts.StateKeyOf == nil {
		return false
	}
	key := s.opts.StateKeyOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	return key != "" && s.conflicted[key]
}

// Lease leases from the primary, or from local while it is down, and
// remembers where each entry came from for Ack and Defer.
func (s *Store) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	es, onLocal, err := run(ctx, s, func(ctx context.Context, st store.Store) ([]store.OutboxEntry, error) {
		return st.Lease(ctx, owner, n, lease)
	})
	s.mu.Lock()
	for _, e := range es {
		s.leasedFrom[e.ID] = onLocal
	}
	s.mu.Unlock()
	return es, err
}

// forgetLease returns where id was last leased from — known is false for
// an entry this process did not lease — and forgets it: Ack and Defer end
// a lease either way.
func (s *Store) forgetLease(id string) (onLocal, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	onLocal, known = s.leasedFrom[id]
	delete(s.leasedFrom, id)
	return onLocal, known
}

// Ack removes a delivered entry from the store it was leased from. An Ack
// the primary cannot take now is kept and sent when it returns: the
// message went out, and must not go out again.
func (s *Store) Ack(ctx context.Context, id, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	onLocal, known := s.forgetLease(id)
	if onLocal || !known && !s.up.Load() {
		return s.local.Ack(ctx, id, owner)
	}
	if s.up.Load() {
		down, err := s.onPrimary(ctx, func(ctx context.Context) error { return s.primary.Ack(ctx, id, owner) })
		if !down {
			return err
		}
	}
	s.mu.Lock()
	s.pendingAcks = append(s.pendingAcks, outboxAck{id: id, owner: owner})
	s.mu.Unlock()
	s.keepAck(ctx, outboxAck{id: id, owner: owner})
	return nil
}

// pendingAckPrefix keys the acks the primary missed in local's KV: with
// a local store on disk (a bolt file) they survive a restart, so a
// message delivered during an outage is not delivered again after it.
const pendingAckPrefix = "fallback:pending-ack:"

func (s *Store) keepAck(ctx context.Context, a outboxAck) {
	if err := s.local.Set(context.WithoutCancel(ctx), pendingAckPrefix+a.id, []byte(a.owner), 0); err != nil {
		s.log.Warn("store: a pending ack was not kept on disk; after a restart its message may go out again", "id", a.id, "err", err)
	}
}

func (s *Store) dropAck(ctx context.Context, a outboxAck) {
	if _, err := s.local.CompareAndSwap(ctx, pendingAckPrefix+a.id, []byte(a.owner), nil, 0); err != nil {
		s.log.Debug("store: a sent ack was not removed from the local store", "id", a.id, "err", err)
	}
}

// loadAcks reads the pending acks an earlier run kept.
func (s *Store) loadAcks(ctx context.Context) {
	kept, err := s.local.Scan(ctx, pendingAckPrefix)
	if err != nil {
		s.log.Warn("store: pending acks of an earlier run could not be read", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, owner := range kept {
		s.pendingAcks = append(s.pendingAcks, outboxAck{id: key[len(pendingAckPrefix):], owner: string(owner)})
	}
}

// Defer returns a failed entry to the store it was leased from. A Defer
// the primary cannot take is dropped: its lease runs out and the entry is
// retried then, which is all Defer would have arranged, sooner.
func (s *Store) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	onLocal, known := s.forgetLease(id)
	if onLocal || !known && !s.up.Load() {
		return s.local.Defer(ctx, id, owner, notBefore)
	}
	if !s.up.Load() {
		return nil
	}
	down, err := s.onPrimary(ctx, func(ctx context.Context) error { return s.primary.Defer(ctx, id, owner, notBefore) })
	if down {
		return nil
	}
	return err
}

// Depth counts undelivered entries: the primary's plus those still held
// locally, or only the local ones while the primary is down.
func (s *Store) Depth(ctx context.Context) (int, error) {
	local, err := s.local.Depth(ctx)
	if err != nil || !s.up.Load() {
		return local, err
	}
	var n int // read only if the call finished in time
	down, err := s.onPrimary(ctx, func(ctx context.Context) (err error) {
		n, err = s.primary.Depth(ctx)
		return err
	})
	if down {
		return local, nil
	}
	return n + local, err
}
