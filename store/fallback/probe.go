package fallback

import (
	"context"
	"errors"
	"time"

	"github.com/credmon/credmon/store"
)

// stopTimeout bounds how long Stop waits for the probe to finish.
const stopTimeout = 5 * time.Second

// replayOwner leases local outbox entries while they move to the primary.
const replayOwner = "credmon-fallback-replay"

// replayLease is how long a local entry stays leased while it moves: if
// the primary fails mid-move, the entry is handed out again after it.
const replayLease = 5 * time.Second

// replayBatch is how many local entries one Lease takes for the move.
const replayBatch = 100

// Pinger is a primary with a cheap liveness call (redisstore.Store has
// one); without it the probe lists instances.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Start runs the probe until ctx ends or Stop is called: every
// Options.ProbeEvery it pings the primary, marks it down if the ping fails,
// and catches it up — then marks it up — when it answers.
func (s *Store) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.wg.Go(func() {
		t := time.NewTicker(s.opts.ProbeEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Probe(ctx)
			}
		}
	})
}

// Stop ends the probe and waits for it, at most stopTimeout.
func (s *Store) Stop() error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(stopTimeout):
		return errors.New("fallback: probe did not stop in time")
	}
}

// Probe checks the primary once, as Start does every tick: ping, then, if
// it answers, send it what it missed and mark it up.
func (s *Store) Probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, s.opts.ProbeTimeout)
	err := s.ping(pctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			s.markDown(err)
		}
		return
	}
	cctx, cancel := context.WithTimeout(ctx, s.opts.CatchUpTimeout)
	defer cancel()
	if err := s.catchUp(cctx); err != nil {
		if s.unreachable(ctx, err) {
			s.markDown(err)
		} else if ctx.Err() == nil {
			s.log.Error("store: catching up the shared store failed; it stays marked down", "err", err)
		}
		return
	}
	s.markUp()
}

func (s *Store) ping(ctx context.Context) error {
	if p, ok := s.primary.(Pinger); ok {
		return p.Ping(ctx)
	}
	_, err := s.primary.Instances(ctx)
	if damaged := (*store.DamagedError)(nil); errors.As(err, &damaged) {
		return nil // it answered; a heartbeat that does not read is no outage
	}
	return err
}

// catchUp sends the primary the acks it missed, the KV written locally
// (and, into a primary that came back empty, the incident and thread
// state this replica knew), the results written locally and the outbox
// entries still held locally, in that order: an acked entry must be gone
// before anything could lease it again, and the incident state must be
// back before a replica decides a transition from it. Work the
// primary refuses for another reason than being unreachable is dropped
// (and logged): retrying it would fail the same way.
func (s *Store) catchUp(ctx context.Context) error {
	if err := s.sendAcks(ctx); err != nil {
		return err
	}
	if err := s.sendKV(ctx); err != nil {
		return err
	}
	if err := s.sendResults(ctx); err != nil {
		return err
	}
	return s.moveOutbox(ctx)
}

func (s *Store) sendAcks(ctx context.Context) error {
	s.mu.Lock()
	acks := s.pendingAcks
	s.pendingAcks = nil
	s.mu.Unlock()
	for i, a := range acks {
		err := s.primary.Ack(ctx, a.id, a.owner)
		if s.unreachable(ctx, err) || ctx.Err() != nil {
			s.mu.Lock()
			s.pendingAcks = append(acks[i:], s.pendingAcks...)
			s.mu.Unlock()
			return errors.Join(err, ctx.Err())
		}
		if err != nil {
			// Most likely the lease ran out during the outage and the
			// entry went out again; nothing left to do.
			s.log.Warn("store: a delivered message's late ack was refused", "id", a.id, "err", err)
		}
		s.dropAck(ctx, a)
	}
	return nil
}

func (s *Store) sendResults(ctx context.Context) error {
	s.mu.Lock()
	rs, dropped := s.pendingResults, s.droppedResults
	s.pendingResults, s.droppedResults = nil, 0
	s.mu.Unlock()
	if dropped > 0 {
		s.log.Warn("store: results from the outage not kept for the shared store (too many)", "dropped", dropped)
	}
	for i, r := range rs {
		err := s.primary.PutResult(ctx, r)
		if s.unreachable(ctx, err) || ctx.Err() != nil {
			s.mu.Lock()
			s.pendingResults = append(rs[i:], s.pendingResults...)
			s.mu.Unlock()
			return errors.Join(err, ctx.Err())
		}
		if err != nil {
			s.log.Warn("store: a result from the outage was refused", "check", r.Key(), "err", err)
		}
	}
	return nil
}

// moveOutbox moves every due local outbox entry into the primary: leased
// from local, enqueued in the primary (idempotent on ID, so a move cut
// short is safe to repeat), then acked locally. Lease hands out one entry
// per group at a time, so entries of a group arrive in order.
func (s *Store) moveOutbox(ctx context.Context) error {
	if n, err := s.local.Depth(ctx); err != nil || n == 0 {
		return err
	}
	for {
		es, err := s.local.Lease(ctx, replayOwner, replayBatch, replayLease)
		if err != nil || len(es) == 0 {
			return err
		}
		for _, e := range es {
			if s.superseded(e) {
				s.log.Info("store: a message decided during the outage is dropped: another replica decided its incident through the shared store meanwhile", "id", e.ID)
				s.forgetLease(e.ID)
				if err := s.local.Ack(ctx, e.ID, replayOwner); err != nil {
					return err
				}
				continue
			}
			err := s.primary.Enqueue(ctx, e)
			if s.unreachable(ctx, err) || ctx.Err() != nil {
				return errors.Join(err, ctx.Err())
			}
			if err != nil {
				s.log.Error("store: the shared store refused a message from the outage; it stays in the local outbox", "id", e.ID, "err", err)
				continue
			}
			s.forgetLease(e.ID)
			if err := s.local.Ack(ctx, e.ID, replayOwner); err != nil {
				return err
			}
		}
	}
}
