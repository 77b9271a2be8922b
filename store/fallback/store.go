// Package fallback keeps credmon working through Redis trouble: a Store
// that serves from a local store while the shared one is unreachable and
// catches the shared one up (outbox, results) when it returns.
package fallback

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

var _ store.Store = (*Store)(nil)

// Options tunes a Store. The zero value is usable.
type Options struct {
	// ProbeEvery is how often Start's probe pings the primary; default 1s.
	ProbeEvery time.Duration
	// ProbeTimeout bounds one ping; default ProbeEvery.
	ProbeTimeout time.Duration
	// CatchUpTimeout bounds one catch-up (replaying the outbox and
	// results into the primary); default 30s.
	CatchUpTimeout time.Duration
	// OnChange is called on every change of the primary's state, in order,
	// from the goroutine that noticed it: for /readyz and a metric. It must
	// be quick and must not call the Store, except Healthy.
	OnChange func(up bool)
	// Unreachable tells a connectivity error from any other; default
	// Unreachable, which knows no driver: pass the primary's own
	// (redisstore.Unreachable) to count its client's outage errors too.
	Unreachable func(error) bool
	// Uncertain tells, of an error Unreachable counts as an outage,
	// whether the call may still have been applied — a timeout, a
	// connection lost mid-call, a write its replicas did not confirm —
	// rather than refused before it was carried out (a connection
	// refused). Default Uncertain; pass the primary's own
	// (redisstore.Uncertain).
	Uncertain func(error) bool
	// UncertainHold is how long an outbox entry whose Enqueue into the
	// primary was uncertain waits in the local outbox before it is
	// delivered from there. If the primary answers within it, the entry
	// is moved into the primary instead, where a copy that did land is
	// found (or was delivered and is remembered, store.DeliveredKept) and
	// nothing goes out twice. Default 15s: longer than a Sentinel failover
	// takes, short enough for the outage delivery bound.
	UncertainHold time.Duration
	// OutageHold is how long a message enqueued locally later than
	// OutageHoldAfter into an outage waits before it is delivered from
	// here; zero delivers at once. By then the other replicas, if they
	// still reach the primary, may have taken this one's checks over and
	// decide them through it: when the primary returns within the hold,
	// a message whose state another replica changed meanwhile (StateKeyOf,
	// a conflict found by the KV catch-up) is dropped instead of moved,
	// since that replica has said what there was to say.
	OutageHold time.Duration
	// OutageHoldAfter: see OutageHold (the daemon passes its takeover
	// time: two heartbeats).
	OutageHoldAfter time.Duration
	// StateKeyOf names the KV key an outbox entry's message was decided
	// from (notify.StateKeyOf); nil, or "" for an entry, keeps it.
	StateKeyOf func(store.OutboxEntry) string
	// Logger reports state changes and lost catch-up work; default
	// slog.Default().
	Logger *slog.Logger
	// MaxPendingResults caps the results kept for catch-up while the
	// primary is down; the oldest go first. Default 10000.
	MaxPendingResults int
	// Reseed names KV prefixes (incident records, notifier threads) whose
	// local mirror is written back when the primary returns without its
	// data — a Redis restarted empty — so the replicas carry on from what
	// they knew instead of opening every incident again.
	Reseed []string
}

// defaultUncertainHold is Options.UncertainHold's default.
const defaultUncertainHold = 15 * time.Second

// Store is a store.Store over a primary (Redis) and a local store (a bolt
// file, so what an outage left queued survives a restart; or a memstore).
//
// While the primary is up every call goes to it. A call that fails with a
// connectivity error (see Unreachable; never store.ErrNotFound or the
// caller's own cancellation) marks it down, and from then on:
//   - Claims are granted locally: each replica probes on its own schedule,
//     since duplicate probes are better than gaps.
//   - KV, Results and Instances use local. KV writes made while up are
//     mirrored into local, so incident state and tokens this replica wrote
//     carry over into an outage.
//   - Outbox entries are enqueued locally and moved into the primary when it
//     returns; Lease, Ack and Defer go to whichever store holds the entry.
//     An Ack the primary missed is kept and sent when it returns, so the
//     entry is not delivered twice.
//
// The probe started by Start notices the primary's return, catches it up
// (acks, results, outbox) and only then marks it up.
type Store struct {
	primary, local store.Store
	opts           Options
	log            *slog.Logger

	up      atomic.Bool
	period  atomic.Pointer[upPeriod] // the current (or last) stretch up; see onPrimary
	stateMu sync.Mutex               // orders state changes and their OnChange calls

	mu             sync.Mutex
	pendingResults []checks.Result    // written locally, for the primary
	droppedResults int                // pendingResults overflow since the last catch-up
	pendingAcks    []outboxAck        // acks the primary missed
	dirty          map[string]dirtyKV // KV keys written locally while down, for the primary
	leasedFrom     map[string]bool    // outbox entries this process leased: true if from local
	seenEpoch      string             // the primary's epoch when this replica last looked (see epochKey)
	downSince      time.Time          // when the primary was last marked down
	conflicted     map[string]bool    // KV keys another replica changed during the last outage (writeBackSwap)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Store over primary and local, with the primary taken to be
// up until a call says otherwise. Call Start to notice its return.
func New(primary, local store.Store, opts Options) *Store {
	if opts.ProbeEvery <= 0 {
		opts.ProbeEvery = time.Second
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = opts.ProbeEvery
	}
	if opts.CatchUpTimeout <= 0 {
		opts.CatchUpTimeout = 30 * time.Second
	}
	if opts.Unreachable == nil {
		opts.Unreachable = Unreachable
	}
	if opts.Uncertain == nil {
		opts.Uncertain = Uncertain
	}
	if opts.UncertainHold <= 0 {
		opts.UncertainHold = defaultUncertainHold
	}
	if opts.MaxPendingResults <= 0 {
		opts.MaxPendingResults = 10000
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{primary: primary, local: local, opts: opts, log: log, leasedFrom: make(map[string]bool), dirty: map[string]dirtyKV{}, conflicted: map[string]bool{}}
	s.up.Store(true)
	s.period.Store(newUpPeriod())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.loadAcks(ctx)
	return s
}

// Local is the local store's KV, for state of this replica's own that
// must outlive a restart during an outage (the daemon keeps the
// membership it last heard there). Never shared, never caught up.
func (s *Store) Local() store.KV { return s.local }

// Healthy reports whether the primary is up.
func (s *Store) Healthy() bool { return s.up.Load() }

// unreachable reports whether err means the primary is unreachable: not
// when the caller's own context ended, which says nothing about it.
func (s *Store) unreachable(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() == nil && s.opts.Unreachable(err)
}

func (s *Store) markDown(err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if !s.up.Load() {
		return
	}
	s.up.Store(false)
	s.period.Load().cancel() // calls in flight on the primary give up
	s.mu.Lock()
	s.downSince = time.Now()
	clear(s.conflicted) // a new outage: the last one's conflicts are settled
	s.mu.Unlock()
	s.log.Warn("store: shared store unreachable; serving from the local store until it returns", "err", err)
	if s.opts.OnChange != nil {
		s.opts.OnChange(false)
	}
}

func (s *Store) markUp() {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if s.up.Load() {
		return
	}
	s.period.Store(newUpPeriod())
	s.up.Store(true)
	s.log.Info("store: shared store is back and caught up")
	if s.opts.OnChange != nil {
		s.opts.OnChange(true)
	}
}

// run calls op on the primary while it is up, and on local when it is
// down or turns out unreachable now. onLocal says where op last ran.
func run[T any](ctx context.Context, s *Store, op func(context.Context, store.Store) (T, error)) (v T, onLocal bool, err error) {
	if s.up.Load() {
		var pv T // written by the primary's call; read only if it finished in time
		down, err := s.onPrimary(ctx, func(ctx context.Context) error {
			var err error
			pv, err = op(ctx, s.primary)
			return err
		})
		if !down {
			return pv, false, err
		}
	}
	v, err = op(ctx, s.local)
	return v, true, err
}

// errAbandoned is a call on the primary given up because the primary was
// marked down while it was in flight.
var errAbandoned = errors.New("fallback: the shared store was marked down during the call")

// upPeriod is one stretch of the primary being up; it ends (its context
// is cancelled) when the primary is marked down.
type upPeriod struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func newUpPeriod() *upPeriod {
	ctx, cancel := context.WithCancel(context.Background())
	return &upPeriod{ctx: ctx, cancel: cancel}
}

// onPrimary runs call on the primary, and gives up on it when the primary
// is marked down meanwhile: a call hanging on a Redis that stopped
// answering (frozen, partitioned — go-redis gives up only at its deadline)
// is abandoned as soon as the probe or another call notices, and the
// caller goes on with the local store. An abandoned call goes on in the
// background, its context cancelled, until its client gives up; what it
// returns then is dropped (it may still land: Options.Uncertain). down
// reports that call failed or was abandoned because the primary is down.
func (s *Store) onPrimary(ctx context.Context, call func(context.Context) error) (down bool, err error) {
	period := s.period.Load()
	if period.ctx.Err() != nil {
		return true, errAbandoned // marked down since the caller looked
	}
	pctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(period.ctx, cancel)
	done := make(chan error, 1)
	go func() {
		defer cancel()
		defer stop()
		done <- call(pctx)
	}()
	select {
	case err = <-done:
	case <-period.ctx.Done():
		return true, errAbandoned
	}
	switch {
	case err == nil:
		return false, nil
	case ctx.Err() == nil && period.ctx.Err() != nil:
		return true, err
	case s.unreachable(ctx, err):
		s.markDown(err)
		return true, err
	}
	return false, err
}

// Close stops the probe and closes both stores.
func (s *Store) Close() error {
	return errors.Join(s.Stop(), s.primary.Close(), s.local.Close())
}
