package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// waitFor bounds every wait in these tests: reaching it is a failure, not
// a measurement.
const waitFor = 10 * time.Second

// recorder is a Notifier that records every attempt and fails as its
// script says.
type recorder struct {
	name string
	// fail decides the outcome of attempt n (1-based) of message m.
	fail func(m Message, n int) (bool, error)

	mu       sync.Mutex
	attempts map[string]int
	sent     []Message
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, attempts: make(map[string]int)}
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Notify(ctx context.Context, m Message) (bool, error) {
	r.mu.Lock()
	r.attempts[m.ID]++
	n := r.attempts[m.ID]
	r.mu.Unlock()
	if r.fail != nil {
		if retry, err := r.fail(m, n); err != nil {
			return retry, err
		}
	}
	r.mu.Lock()
	r.sent = append(r.sent, m)
	r.mu.Unlock()
	return false, nil
}

func (r *recorder) Sent() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.sent...)
}

// deferral is one Defer call seen by deferLog.
type deferral struct {
	id        string
	notBefore time.Time
	at        time.Time // the dispatcher's clock when it deferred
}

// deferLog passes through to a real outbox and reports every Defer on ch,
// if set. With a clock, elapse moves it past every notBefore so far: set
// as OnDepth, it makes the waits a pass asked for go by before the next
// pass, for the dispatcher's gate as they already have for the store.
type deferLog struct {
	store.Outbox
	ch    chan deferral
	clock *fakeClock

	mu     sync.Mutex
	latest time.Time
}

func (o *deferLog) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	var at time.Time
	if o.clock != nil {
		at = o.clock.Now()
	}
	err := o.Outbox.Defer(ctx, id, owner, notBefore)
	o.mu.Lock()
	if notBefore.After(o.latest) {
		o.latest = notBefore
	}
	o.mu.Unlock()
	if o.ch != nil {
		o.ch <- deferral{id, notBefore, at}
	}
	return err
}

// elapse is an OnDepth: Run calls it between passes.
func (o *deferLog) elapse(int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clock.AdvanceTo(o.latest)
}

// rateLimited is a notifier error that says when to come back, like the
// Slack notifier's 429.
type rateLimited struct{ after time.Duration }

func (e rateLimited) Error() string             { return "slack: rate limited" }
func (e rateLimited) RetryAfter() time.Duration { return e.after }

// AdvanceTo moves the clock to t unless it is already later.
func (c *fakeClock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func msg(key string, n int) Message {
	return Message{ID: fmt.Sprintf("%s/%d-opened", key, n), IncidentKey: key, Event: EventOpened, Env: "prod", Detail: fmt.Sprint(n)}
}

// sentSignal returns an OnSent callback and the channel it reports on.
func sentSignal() (func(string), chan string) {
	ch := make(chan string, 1000)
	return func(n string) { ch <- n }, ch
}

func waitSent(t *testing.T, ch <-chan string, n int) {
	t.Helper()
	deadline := time.After(waitFor)
	for i := range n {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("only %d of %d messages delivered", i, n)
		}
	}
}

// run starts d and stops it when the test ends.
func run(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v", err)
				}
			case <-time.After(waitFor):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, d *Dispatcher, ms ...Message) {
	t.Helper()
	for _, m := range ms {
		if err := d.Enqueue(context.Background(), m); err != nil {
			t.Fatalf("Enqueue(%s): %v", m.ID, err)
		}
	}
}

func depth(t *testing.T, o store.Outbox) int {
	t.Helper()
	n, err := o.Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The dispatcher's clock starts in the past in most tests: deferrals it
// computes are then already due by the store's real clock, so retries
// happen at once and the test can read the waits it asked for. A deferLog
// with that clock moves it along, so the notifier's gate opens too.

func TestDispatcherOrderWithinGroup(t *testing.T) {
	clock := newFakeClock(t0)
	ob := &deferLog{Outbox: memstore.New(), clock: clock}
	rec := newRecorder("slack")
	rec.fail = func(m Message, n int) (bool, error) {
		if (m.ID == "prod/a/auth/2-opened" && n == 1) || (m.ID == "prod/b/auth/1-opened" && n <= 2) {
			return true, errors.New("slack: 503")
		}
		return false, nil
	}
	onSent, sent := sentSignal()
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), OnSent: onSent, Poll: 20 * time.Millisecond, OnDepth: ob.elapse,
	})
	for i := 1; i <= 5; i++ {
		enqueue(t, d, msg("prod/a/auth", i), msg("prod/b/auth", i))
	}
	run(t, d)
	waitSent(t, sent, 10)
	order := map[string][]string{}
	for _, m := range rec.Sent() {
		order[m.IncidentKey] = append(order[m.IncidentKey], m.Detail)
	}
	for _, k := range []string{"prod/a/auth", "prod/b/auth"} {
		if got := strings.Join(order[k], ","); got != "1,2,3,4,5" {
			t.Errorf("group %s delivered in order %s, want 1,2,3,4,5", k, got)
		}
	}
	if n := depth(t, ob); n != 0 {
		t.Errorf("depth %d after delivery, want 0", n)
	}
}

func TestDispatcherBackoff(t *testing.T) {
	clock := newFakeClock(t0)
	ob := &deferLog{Outbox: memstore.New(), ch: make(chan deferral, 100), clock: clock}
	rec := newRecorder("slack")
	rec.fail = func(m Message, n int) (bool, error) {
		if n <= 6 {
			return true, errors.New("slack: 502 bad gateway")
		}
		return false, nil
	}
	onSent, sent := sentSignal()
	var failedMu sync.Mutex
	failed := 0
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), MaxBackoff: 4 * time.Second, OnSent: onSent, Poll: 20 * time.Millisecond,
		OnDepth: ob.elapse,
		OnFailed: func(n string, retry bool) {
			failedMu.Lock()
			defer failedMu.Unlock()
			if n == "slack" && retry {
				failed++
			}
		},
	})
	enqueue(t, d, msg("prod/a/auth", 1))
	run(t, d)
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, w := range want {
		var df deferral
		select {
		case df = <-ob.ch:
		case <-time.After(waitFor):
			t.Fatalf("no deferral %d", i+1)
		}
		wait := df.notBefore.Sub(df.at)
		if wait > w || wait < w*4/5 {
			t.Errorf("failure %d: retry in %v, want %v less at most a fifth of jitter", i+1, wait, w)
		}
		if i == 2 {
			// Defer follows the bookkeeping: three in a row are a problem.
			if h := d.Health(); len(h) != 1 || !strings.Contains(h[0], "3 delivery attempts failed in a row") {
				t.Errorf("Health after 3 failures = %q", h)
			}
		}
	}
	waitSent(t, sent, 1)
	if h := d.Health(); len(h) != 0 {
		t.Errorf("Health after a success = %q, want none", h)
	}
	failedMu.Lock()
	defer failedMu.Unlock()
	if failed != 6 {
		t.Errorf("OnFailed(slack, retry) called %d times, want 6", failed)
	}
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	clock := newFakeClock(t0)
	ob := &deferLog{Outbox: memstore.New(), ch: make(chan deferral, 10), clock: clock}
	rec := newRecorder("slack")
	rec.fail = func(m Message, n int) (bool, error) {
		if n == 1 {
			return true, fmt.Errorf("post message: %w", rateLimited{42 * time.Second})
		}
		return false, nil
	}
	onSent, sent := sentSignal()
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), OnSent: onSent, Poll: 20 * time.Millisecond, OnDepth: ob.elapse,
	})
	enqueue(t, d, msg("prod/a/auth", 1))
	run(t, d)
	select {
	case df := <-ob.ch:
		if want := t0.Add(42 * time.Second); !df.notBefore.Equal(want) {
			t.Errorf("deferred to %v, want Retry-After's %v", df.notBefore, want)
		}
	case <-time.After(waitFor):
		t.Fatal("no deferral after a 429")
	}
	waitSent(t, sent, 1)
}

func TestDispatcherPermanentFailure(t *testing.T) {
	ob := &deferLog{Outbox: memstore.New(), ch: make(chan deferral, 10)}
	// A clock at the real now: the slow retry is then really in the future
	// and the store does not hand the entry out again during the test.
	clock := newFakeClock(time.Now())
	rec := newRecorder("slack")
	rec.fail = func(m Message, n int) (bool, error) {
		if m.IncidentKey == "prod/a/auth" {
			return false, errors.New("slack: channel_not_found")
		}
		return false, nil
	}
	onSent, sent := sentSignal()
	failed := make(chan bool, 10)
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), OnSent: onSent, Poll: 20 * time.Millisecond,
		OnFailed: func(n string, retry bool) { failed <- retry },
	})
	enqueue(t, d, msg("prod/a/auth", 1))
	run(t, d)
	select {
	case df := <-ob.ch:
		if want := clock.Now().Add(DefaultPermanentRetry); !df.notBefore.Equal(want) {
			t.Errorf("deferred to %v, want %v (5m later)", df.notBefore, want)
		}
	case <-time.After(waitFor):
		t.Fatal("no deferral after a permanent failure")
	}
	if retry := <-failed; retry {
		t.Error("OnFailed reported retry=true for a permanent failure")
	}
	h := d.Health()
	if len(h) != 1 || !strings.HasPrefix(h[0], "slack: 1 message(s) held back") || !strings.Contains(h[0], "channel_not_found") {
		t.Errorf("Health = %q, want the held message and its reason", h)
	}
	// Another incident's message still goes through; the held one stays
	// held and is never dropped.
	enqueue(t, d, msg("prod/b/auth", 1))
	waitSent(t, sent, 1)
	if n := depth(t, ob); n != 1 {
		t.Errorf("depth %d, want the held message still in the outbox", n)
	}
	if h := d.Health(); len(h) != 1 {
		t.Errorf("Health after another message succeeded = %q, want the held one still reported", h)
	}
	// Not seen failing for two retry periods: another replica delivered it.
	clock.Advance(2*DefaultPermanentRetry + DefaultLease + time.Second)
	if h := d.Health(); len(h) != 0 {
		t.Errorf("Health long after the last failure = %q, want none", h)
	}
}

func TestDispatcherEnqueue(t *testing.T) {
	ob := memstore.New()
	all := newRecorder("console")
	slack := newRecorder("slack")
	onSent, sent := sentSignal()
	d := NewDispatcher(ob, []Notifier{all, slack}, DispatcherOptions{Owner: "a", Logger: quiet(), OnSent: onSent})
	dev := msg("dev/a/auth", 1)
	dev.Env = "dev"
	// The same message twice is one entry per notifier.
	enqueue(t, d, msg("prod/a/auth", 1), msg("prod/a/auth", 1), dev)
	if n := depth(t, ob); n != 4 {
		t.Fatalf("depth %d after enqueue, want 4 (each message once to each notifier)", n)
	}
	if err := d.Enqueue(context.Background(), Message{}); err == nil {
		t.Error("a message without an ID was enqueued")
	}
	run(t, d)
	waitSent(t, sent, 4)
	for _, r := range []*recorder{all, slack} {
		got := r.Sent()
		envs := map[string]int{}
		for _, m := range got {
			envs[m.Env]++
		}
		if len(got) != 2 || envs["prod"] != 1 || envs["dev"] != 1 {
			t.Errorf("%s got %+v, want the prod and the dev message once each", r.name, got)
		}
	}
}

func TestDispatcherShutdownFinishesInFlight(t *testing.T) {
	ob := memstore.New()
	inFlight, release := make(chan struct{}), make(chan struct{})
	rec := newRecorder("slack")
	rec.fail = func(m Message, n int) (bool, error) {
		close(inFlight)
		<-release
		return false, nil
	}
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{Owner: "a", Logger: quiet()})
	enqueue(t, d, msg("prod/a/auth", 1))
	stop := run(t, d)
	<-inFlight
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	close(release)
	<-stopped
	if got := len(rec.Sent()); got != 1 {
		t.Errorf("sent %d, want 1", got)
	}
	if n := depth(t, ob); n != 0 {
		t.Errorf("depth %d after shutdown, want 0: the message sent during shutdown was not acked", n)
	}
}

// flakyOutbox fails Lease while down and reports the start of every Lease.
type flakyOutbox struct {
	store.Outbox
	mu     sync.Mutex
	down   bool
	leases chan struct{}
}

func (o *flakyOutbox) setDown(v bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down = v
}

func (o *flakyOutbox) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	o.leases <- struct{}{}
	o.mu.Lock()
	down := o.down
	o.mu.Unlock()
	if down {
		return nil, errors.New("redis: connection refused")
	}
	return o.Outbox.Lease(ctx, owner, n, lease)
}

func TestDispatcherReportsOutboxUnavailable(t *testing.T) {
	ob := &flakyOutbox{Outbox: memstore.New(), down: true, leases: make(chan struct{})}
	d := NewDispatcher(ob, []Notifier{newRecorder("slack")}, DispatcherOptions{Owner: "a", Logger: quiet(), Poll: 10 * time.Millisecond})
	stop := run(t, d)
	// Lease calls are sequential: when one starts, the previous one's
	// outcome is recorded.
	next := func() {
		select {
		case <-ob.leases:
		case <-time.After(waitFor):
			t.Fatal("no Lease call")
		}
	}
	next()
	next()
	if h := d.Health(); len(h) != 1 || !strings.Contains(h[0], "outbox unavailable: redis: connection refused") {
		t.Errorf("Health while the outbox is down = %q", h)
	}
	ob.setDown(false)
	next()
	next()
	if h := d.Health(); len(h) != 0 {
		t.Errorf("Health after the outbox came back = %q, want none", h)
	}
	drained := make(chan struct{})
	go func() {
		for range ob.leases { // let Run poll on until it stops
		}
		close(drained)
	}()
	stop()
	close(ob.leases)
	<-drained
}

// An incident's follow-ups go as soon as the one before is acked, not one
// per poll: with an hourly poll, only the passes that follow a delivery can
// send them.
func TestDispatcherSendsFollowUpsAtOnce(t *testing.T) {
	ob := memstore.New()
	rec := newRecorder("slack")
	onSent, sent := sentSignal()
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{Owner: "a", Logger: quiet(), OnSent: onSent, Poll: time.Hour})
	for i := 1; i <= 4; i++ {
		enqueue(t, d, msg("prod/a/auth", i))
	}
	run(t, d)
	waitSent(t, sent, 4)
	var got []string
	for _, m := range rec.Sent() {
		got = append(got, m.Detail)
	}
	if strings.Join(got, ",") != "1,2,3,4" {
		t.Errorf("delivered %v, want 1,2,3,4", got)
	}
}
