package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/credmon/credmon/store"
)

// Dispatcher defaults.
const (
	DefaultLease          = 30 * time.Second
	DefaultBatch          = 16
	DefaultMaxBackoff     = 5 * time.Minute
	DefaultPermanentRetry = 5 * time.Minute
	DefaultPoll           = time.Second
	DefaultNotifyTimeout  = 10 * time.Second
)

// storeTimeout bounds the Ack or Defer that follows a delivery; it runs
// even while shutting down so a message Slack accepted is not sent again.
const storeTimeout = 5 * time.Second

// leaseTimeout bounds one Lease, and the Depth read after a pass: one on a
// store that stopped answering (a frozen Redis) fails soon, so the store's
// fallback serves the local outbox, instead of holding every delivery for
// the client's retries.
const leaseTimeout = 2 * time.Second

// unhealthyAfter is how many retryable failures in a row make a notifier a
// delivery problem in Health: one 5xx is weather, several are an outage.
const unhealthyAfter = 3

// DispatcherOptions tune delivery from the outbox.
type DispatcherOptions struct {
	Owner          string        // this replica's id, the lease owner
	Lease          time.Duration // how long a leased entry is ours; default 30s
	Batch          int           // entries leased (and delivered concurrently) at once; default 16
	MaxBackoff     time.Duration // cap of the exponential backoff; default 5m
	PermanentRetry time.Duration // wait after a failure retrying cannot fix; default 5m
	Poll           time.Duration // how often to look for due entries without a nudge; default 1s
	NotifyTimeout  time.Duration // bound of one Notify call; default 10s, at most Lease/2
	Now            func() time.Time
	Logger         *slog.Logger
	// Metrics receives the delivery series; nil records none.
	Metrics *Metrics

	// Router picks each message's notifiers at Enqueue; nil sends every
	// message to every notifier. Unrouted notifiers (the console, which
	// logs every transition) get every message whatever the routes say.
	Router   *Router
	Unrouted []string

	// Silences hold the messages they match until they end (see deliver);
	// nil silences nothing. Unrouted notifiers (the console log) are not
	// silenced: the log records every transition as it happens.
	Silences *Silences

	// Hooks, for tests and programs that embed the dispatcher; metrics
	// do not need them.
	OnSent   func(notifier string)             // a message was accepted (called after its Ack)
	OnFailed func(notifier string, retry bool) // a delivery attempt failed
	OnDepth  func(n int)                       // outbox depth after each pass, once its series are set
}

// envelope is an outbox payload: the message and who delivers it.
type envelope struct {
	Notifier string  `json:"notifier"`
	Message  Message `json:"message"`
}

// Dispatcher delivers messages through the outbox: Enqueue stores one entry
// per notifier, Run leases due entries and delivers them. Any replica may
// run one; the outbox's leases keep a message from being sent twice.
// Retry-After and backoff apply to a notifier, not to one message (see
// gate): while a notifier waits, its entries wait with it, unsent.
type Dispatcher struct {
	outbox    store.Outbox
	notifiers map[string]Notifier
	order     []string // notifier names, for Enqueue
	opts      DispatcherOptions
	nudge     chan struct{}

	mu        sync.Mutex
	health    map[string]*notifierHealth // by notifier name
	outboxErr string                     // why the last Lease failed; "" when it worked
	gates     map[string]*gate           // by notifier name
	failing   map[string]*failing        // by entry ID
	// silenced are the entries this replica deferred for a silence, until
	// the time they were deferred to: whoever leases one next decides
	// again, so replicas do not count an entry twice.
	silenced map[string]time.Time
}

// notifierHealth is a notifier's current delivery trouble.
type notifierHealth struct {
	held   map[string]heldEntry // entries failing for good, by entry ID
	streak int                  // retryable failures since the last success
	err    string               // the latest retryable failure
}

type heldEntry struct {
	err   string
	at    time.Time
	every time.Duration // how often it is tried again
}

// NewDispatcher returns a dispatcher over outbox for notifiers, which must
// have distinct names.
func NewDispatcher(outbox store.Outbox, notifiers []Notifier, opts DispatcherOptions) *Dispatcher {
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.PermanentRetry <= 0 {
		opts.PermanentRetry = DefaultPermanentRetry
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.NotifyTimeout <= 0 {
		opts.NotifyTimeout = DefaultNotifyTimeout
	}
	// A delivery must end well inside its lease, or another replica takes
	// the entry over and sends it a second time.
	opts.NotifyTimeout = min(opts.NotifyTimeout, opts.Lease/2)
	if opts.Owner == "" {
		// Leases need an owner; a random one is as good as any for a
		// replica that was not given a name.
		var b [6]byte
		_, _ = rand.Read(b[:])
		opts.Owner = "dispatcher-" + hex.EncodeToString(b[:])
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Dispatcher{
		outbox:    outbox,
		notifiers: make(map[string]Notifier, len(notifiers)),
		opts:      opts,
		nudge:     make(chan struct{}, 1),
		health:    make(map[string]*notifierHealth),
		gates:     make(map[string]*gate),
		failing:   make(map[string]*failing),
		silenced:  make(map[string]time.Time),
	}
	for _, n := range notifiers {
		if _, dup := d.notifiers[n.Name()]; !dup {
			d.order = append(d.order, n.Name())
		}
		d.notifiers[n.Name()] = n
	}
	return d
}

// Enqueue stores m for every notifier the router picks and wakes Run. Entry
// IDs derive from m.ID, so enqueueing the same message again adds nothing.
// Routing is decided here, once: the outbox holds one entry per chosen
// notifier, so whichever replica delivers, it delivers the same set.
func (d *Dispatcher) Enqueue(ctx context.Context, m Message) error {
	if m.ID == "" {
		return errors.New("notify: message has no id")
	}
	var errs []error
	for _, name := range d.targets(m) {
		payload, err := json.Marshal(envelope{Notifier: name, Message: m})
		if err != nil {
			return fmt.Errorf("notify: encode message %s: %w", m.ID, err)
		}
		e := store.OutboxEntry{
			ID:       m.ID + "/" + name,
			Group:    name + ":" + m.IncidentKey,
			Payload:  payload,
			Enqueued: d.opts.Now(),
		}
		if err := d.outbox.Enqueue(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("notify: enqueue %s: %w", e.ID, err))
		}
	}
	select {
	case d.nudge <- struct{}{}:
	default: // a wake-up is already pending
	}
	return errors.Join(errs...)
}

// targets are the configured notifiers m goes to, in configuration order.
func (d *Dispatcher) targets(m Message) []string {
	names, matched := d.opts.Router.Targets(m)
	if !matched {
		return d.order
	}
	var out []string
	for _, n := range d.order {
		if slices.Contains(names, n) || slices.Contains(d.opts.Unrouted, n) {
			out = append(out, n)
		}
	}
	return out
}

// Runner is a notifier with work of its own besides Notify, such as
// Alertmanager's restating of open alerts. Dispatcher.Run runs it, with
// the same ctx, and waits for it to return.
type Runner interface {
	Run(ctx context.Context) error
}

// Run delivers due entries until ctx is done, then returns nil. It also
// runs every notifier that is a Runner. It wakes on
// Enqueue and otherwise polls, for entries other replicas enqueued and for
// deferred ones coming due. A delivery in flight when ctx ends finishes
// (within NotifyTimeout) and is acknowledged, so a graceful shutdown sends
// nothing twice.
func (d *Dispatcher) Run(ctx context.Context) error {
	var loops sync.WaitGroup
	defer loops.Wait()
	for _, name := range d.order {
		if r, ok := d.notifiers[name].(Runner); ok {
			loops.Go(func() {
				if err := r.Run(ctx); err != nil && ctx.Err() == nil {
					d.opts.Logger.Error("notify: notifier loop stopped", "notifier", name, "err", err)
				}
			})
		}
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.nudge:
		case <-timer.C:
		}
		for ctx.Err() == nil {
			leased, sent, err := d.pass(ctx)
			if ctx.Err() == nil {
				d.outboxState(err)
			}
			if err != nil {
				break
			}
			// A full batch means more may be due, and a delivery makes its
			// group's next entry due: an incident's follow-ups go at once,
			// not one per poll.
			if leased < d.opts.Batch && sent == 0 {
				break
			}
		}
		if d.opts.Metrics != nil {
			d.opts.Metrics.silenced(d.silencedCount(d.opts.Now()))
		}
		if (d.opts.OnDepth != nil || d.opts.Metrics != nil) && ctx.Err() == nil {
			dctx, cancel := context.WithTimeout(ctx, leaseTimeout)
			n, err := d.outbox.Depth(dctx)
			cancel()
			if err == nil {
				d.opts.Metrics.depth(n)
				if d.opts.OnDepth != nil {
					d.opts.OnDepth(n)
				}
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(d.opts.Poll)
	}
}

// pass leases one batch and delivers it, each entry on its own goroutine:
// a batch holds at most one entry per group, so order is not at stake, and
// one slow notifier must not hold the others' leases past their expiry.
// It returns how many entries it leased and how many it delivered.
func (d *Dispatcher) pass(ctx context.Context) (leased, sent int, err error) {
	lctx, cancel := context.WithTimeout(ctx, leaseTimeout)
	entries, err := d.outbox.Lease(lctx, d.opts.Owner, d.opts.Batch, d.opts.Lease)
	cancel()
	if damaged := (*store.DamagedError)(nil); errors.As(err, &damaged) {
		// The store holds those back a lease; the others go out.
		d.opts.Logger.Error("notify: stored outbox entries do not read, held back", "err", err)
		for _, id := range damaged.Keys {
			d.hold("outbox", id, "stored entry does not read: "+damaged.Reason(), d.opts.Lease)
		}
		err = nil
	}
	if err != nil {
		return 0, 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, e := range entries {
		wg.Go(func() {
			if d.deliver(ctx, e) {
				mu.Lock()
				sent++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(entries), sent, nil
}

// deliver sends one leased entry and settles it: Ack on success, Defer on
// failure, and reports whether the notifier accepted it. Nothing is ever
// dropped; a failure retrying cannot fix waits PermanentRetry and shows in
// Health until it stops failing. While the notifier's gate is closed the
// entry waits for it unsent.
func (d *Dispatcher) deliver(ctx context.Context, e store.OutboxEntry) bool {
	log := d.opts.Logger.With("entry", e.ID)
	// Settling runs without ctx's cancellation: shutdown must still record
	// what happened to a message that was just sent.
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()

	var env envelope
	if err := json.Unmarshal(e.Payload, &env); err != nil {
		// Perhaps written by a newer version: keep it for one that reads it.
		log.Error("notify: undecodable outbox entry, deferring", "err", err)
		d.record("outbox", e.ID, true, "undecodable entry")
		d.defer1(settle, log, e, d.opts.Now().Add(d.opts.PermanentRetry))
		return false
	}
	n, ok := d.notifiers[env.Notifier]
	if !ok {
		// Another replica (mid-rollout, other config) may have it.
		d.record(env.Notifier, e.ID, true, "notifier not configured on this replica")
		d.defer1(settle, log, e, d.opts.Now().Add(d.opts.PermanentRetry))
		return false
	}
	if ctx.Err() != nil {
		// Shutting down before sending: hand the entry back at once
		// rather than let it wait for the lease to expire.
		d.defer1(settle, log, e, d.opts.Now())
		return false
	}

	now := d.opts.Now()
	if held := d.held(settle, log, e, env, now); held {
		return false
	}

	// Checked here rather than at Lease: a message sent alongside this one
	// may have just closed the gate with a 429.
	closed, round := d.admit(env.Notifier, now)
	if !closed.IsZero() {
		log.Debug("notify: notifier waiting, entry deferred unsent", "notifier", env.Notifier, "until", closed)
		d.defer1(settle, log, e, closed)
		return false
	}

	nctx, ncancel := context.WithTimeout(context.WithoutCancel(ctx), d.opts.NotifyTimeout)
	retry, err := n.Notify(nctx, env.Message)
	ncancel()
	d.opts.Metrics.delivered(env.Notifier, err, retry)
	if err == nil {
		d.delivered(env.Notifier, e.ID)
		if err := d.outbox.Ack(settle, e.ID, d.opts.Owner); err != nil {
			// ErrLeaseLost: another replica took over and may send it
			// again; nothing to undo from here.
			log.Warn("notify: ack failed after delivery", "notifier", env.Notifier, "err", err)
		}
		if d.opts.OnSent != nil {
			d.opts.OnSent(env.Notifier)
		}
		return true
	}

	if d.opts.OnFailed != nil {
		d.opts.OnFailed(env.Notifier, retry)
	}
	now = d.opts.Now()
	var next time.Time
	switch ra, asked := retryAfter(err); {
	case asked:
		next = d.limited(env.Notifier, now, ra)
	case retry:
		next = d.backedOff(env.Notifier, e.ID, round, now)
	default:
		next = now.Add(d.opts.PermanentRetry)
	}
	d.record(env.Notifier, e.ID, !retry, err.Error())
	// Attempts counts the store's deferrals, waits for the gate included.
	log.Warn("notify: delivery failed", "notifier", env.Notifier, "retry", retry,
		"deferrals", e.Attempts, "next_in", next.Sub(now), "err", err)
	d.defer1(settle, log, e, next)
	return false
}

// held settles an entry a silence holds and reports whether it did: the
// entry waits, unsent, until the silence ends (looked at again at least
// every silenceRecheck, so expiring a silence early releases it). A
// reminder that comes due while silenced is dropped: by the time the
// silence ends it says nothing the held messages and the next reminder do
// not, and a burst of stale reminders after a maintenance is noise.
func (d *Dispatcher) held(ctx context.Context, log *slog.Logger, e store.OutboxEntry, env envelope, now time.Time) bool {
	if d.opts.Silences == nil || slices.Contains(d.opts.Unrouted, env.Notifier) {
		return false
	}
	until := d.opts.Silences.Until(ctx, env.Message, now)
	if until.IsZero() || env.Message.Event == EventReminder {
		d.mu.Lock()
		delete(d.silenced, e.ID)
		d.mu.Unlock()
	}
	if until.IsZero() {
		return false
	}
	if env.Message.Event == EventReminder {
		log.Info("notify: reminder dropped while silenced", "notifier", env.Notifier, "incident", env.Message.IncidentKey, "silenced_until", until)
		if err := d.outbox.Ack(ctx, e.ID, d.opts.Owner); err != nil {
			log.Warn("notify: ack of a silenced reminder failed", "err", err)
		}
		return true
	}
	log.Debug("notify: silenced, entry held", "notifier", env.Notifier, "until", until)
	if recheck := now.Add(silenceRecheck); until.After(recheck) {
		until = recheck
	}
	d.mu.Lock()
	d.silenced[e.ID] = until
	d.mu.Unlock()
	d.defer1(ctx, log, e, until)
	return true
}

// silencedCount is how many entries this replica holds for a silence at
// now; the entries whose wait is over are forgotten.
func (d *Dispatcher) silencedCount(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, until := range d.silenced {
		if !until.After(now) {
			delete(d.silenced, id)
		}
	}
	return len(d.silenced)
}

func (d *Dispatcher) defer1(ctx context.Context, log *slog.Logger, e store.OutboxEntry, at time.Time) {
	if err := d.outbox.Defer(ctx, e.ID, d.opts.Owner, at); err != nil {
		// The lease expires on its own and the entry comes back.
		log.Warn("notify: defer failed", "err", err)
	}
}

// outboxState logs when the outbox becomes unavailable or comes back, once
// per change rather than once per poll, and keeps it for Health.
func (d *Dispatcher) outboxState(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case err != nil && d.outboxErr == "":
		d.opts.Logger.Warn("notify: outbox unavailable, deliveries wait", "err", err)
	case err == nil && d.outboxErr != "":
		d.opts.Logger.Info("notify: outbox available again")
	}
	d.outboxErr = ""
	if err != nil {
		d.outboxErr = err.Error()
	}
}

// record notes a failed attempt at entry id through notifier; a
// permanent failure holds the entry until PermanentRetry (hold).
func (d *Dispatcher) record(notifier, id string, permanent bool, msg string) {
	if permanent {
		d.hold(notifier, id, msg, d.opts.PermanentRetry)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	h := d.healthOf(notifier)
	delete(h.held, id)
	h.streak++
	h.err = msg
}

// hold notes that entry id is held back from notifier by msg and tried
// again every every.
func (d *Dispatcher) hold(notifier, id, msg string, every time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.healthOf(notifier).held[id] = heldEntry{err: msg, at: d.opts.Now(), every: every}
}

// healthOf is notifier's health, made on first use. Callers hold d.mu.
func (d *Dispatcher) healthOf(notifier string) *notifierHealth {
	h := d.health[notifier]
	if h == nil {
		h = &notifierHealth{held: make(map[string]heldEntry)}
		d.health[notifier] = h
	}
	return h
}

// delivered notes a success of entry id through notifier.
func (d *Dispatcher) delivered(notifier, id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.succeeded(notifier, id)
	if h := d.health[notifier]; h != nil {
		delete(h.held, id)
		h.streak, h.err = 0, ""
	}
}

// Health lists current delivery problems, one line per notifier, for
// /readyz: an outbox that cannot be read, messages held back by a failure
// retrying cannot fix (a revoked bot token, an unknown channel) at once,
// retryable failures after several in a row. Empty when delivery works.
func (d *Dispatcher) Health() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	// A held entry not seen failing for this long was delivered by another
	// replica, or by this one under another notifier name.
	stale := d.opts.Now().Add(-2*d.opts.PermanentRetry - d.opts.Lease)
	var out []string
	if d.outboxErr != "" {
		out = append(out, "outbox unavailable: "+d.outboxErr)
	}
	for name, h := range d.health {
		var last heldEntry
		n := 0
		for id, e := range h.held {
			if e.at.Before(stale) {
				delete(h.held, id)
				continue
			}
			n++
			if e.at.After(last.at) || last.err == "" {
				last = e
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s: %d message(s) held back by a failure retrying cannot fix (retried every %s): %s",
				name, n, last.every, last.err))
		}
		if h.streak >= unhealthyAfter {
			out = append(out, fmt.Sprintf("%s: %d delivery attempts failed in a row: %s", name, h.streak, h.err))
		}
	}
	slices.Sort(out)
	return out
}
