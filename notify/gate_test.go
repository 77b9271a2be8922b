package notify

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/store/memstore"
)

// inJitter reports whether wait is Backoff(attempt, max) for some jitter.
func inJitter(wait time.Duration, attempt int, max time.Duration) bool {
	full := baseBackoff << (attempt - 1)
	full = min(full, max)
	return wait <= full && wait >= full*4/5
}

func TestGateRoundCountsOnce(t *testing.T) {
	d := NewDispatcher(memstore.New(), nil, DispatcherOptions{Owner: "a", Logger: quiet()})
	now := t0
	closed, round := d.admit("slack", now)
	if !closed.IsZero() {
		t.Fatalf("a new notifier's gate is closed until %v", closed)
	}
	// Two messages of one round fail: one step of backoff, one time for both.
	a := d.backedOff("slack", "a", round, now)
	b := d.backedOff("slack", "b", round, now.Add(time.Millisecond))
	if !a.Equal(b) {
		t.Errorf("messages of one round deferred to %v and %v, want one time", a, b)
	}
	if !inJitter(a.Sub(now), 1, DefaultMaxBackoff) {
		t.Errorf("first round waits %v, want Backoff(1)", a.Sub(now))
	}
	// Until it opens, nothing goes: a message enqueued meanwhile waits too.
	if closed, _ := d.admit("slack", now.Add(a.Sub(now)/2)); !closed.Equal(a) {
		t.Errorf("gate mid-wait closed until %v, want %v", closed, a)
	}
	if closed, _ := d.admit("console", now); !closed.IsZero() {
		t.Errorf("another notifier's gate closed until %v", closed)
	}
	// The next round fails again: the step doubles.
	closed, round = d.admit("slack", a)
	if !closed.IsZero() {
		t.Fatalf("gate still closed at its opening, until %v", closed)
	}
	next := d.backedOff("slack", "a", round, a)
	if !inJitter(next.Sub(a), 2, DefaultMaxBackoff) {
		t.Errorf("second round waits %v, want Backoff(2)", next.Sub(a))
	}
	// A success lifts the backoff at once.
	d.delivered("slack", "c")
	if closed, _ := d.admit("slack", a); !closed.IsZero() {
		t.Errorf("gate closed until %v after a success", closed)
	}
}

func TestGateRetryAfterOutlastsSuccess(t *testing.T) {
	d := NewDispatcher(memstore.New(), nil, DispatcherOptions{Owner: "a", Logger: quiet()})
	until := d.limited("slack", t0, time.Minute)
	if want := t0.Add(time.Minute); !until.Equal(want) {
		t.Errorf("limited until %v, want %v", until, want)
	}
	// A message sent before the 429 came back succeeds: Slack's limit
	// still stands.
	d.delivered("slack", "x")
	if closed, _ := d.admit("slack", t0.Add(time.Second)); !closed.Equal(until) {
		t.Errorf("gate after a success closed until %v, want the Retry-After's %v", closed, until)
	}
	if closed, _ := d.admit("slack", until); !closed.IsZero() {
		t.Errorf("gate closed until %v when the Retry-After ran out", closed)
	}
}

// A message that keeps failing while others go through backs off on its
// own, and does not hold the others up.
func TestGatePoisonMessageBacksOffAlone(t *testing.T) {
	d := NewDispatcher(memstore.New(), nil, DispatcherOptions{Owner: "a", Logger: quiet()})
	now := t0
	_, round := d.admit("slack", now)
	now = d.backedOff("slack", "poison", round, now) // first failure: could be an outage
	for i := 1; i <= 5; i++ {
		d.delivered("slack", "good")
		closed, round := d.admit("slack", now)
		if !closed.IsZero() {
			t.Fatalf("round %d: gate closed until %v after a success", i, closed)
		}
		next := d.backedOff("slack", "poison", round, now)
		if !inJitter(next.Sub(now), i, DefaultMaxBackoff) {
			t.Errorf("failure %d after others went through waits %v, want Backoff(%d)", i+1, next.Sub(now), i)
		}
		if closed, _ := d.admit("slack", now); !closed.IsZero() {
			t.Errorf("failure %d of one message closed the gate until %v", i+1, closed)
		}
		now = next
	}
}

// Through an outage a notifier's messages wait for one gate, so when it
// opens on a working Slack they all go: none sits out a longer backoff of
// its own. Passes run on nudges only (hourly poll), so each is a round.
func TestDispatcherOutageMessagesShareTheGate(t *testing.T) {
	clock := newFakeClock(t0)
	ob := &deferLog{Outbox: memstore.New(), ch: make(chan deferral, 100), clock: clock}
	var down atomic.Bool
	down.Store(true)
	rec := newRecorder("slack")
	rec.fail = func(m Message, n int) (bool, error) {
		if down.Load() {
			return true, errors.New("slack: 503")
		}
		return false, nil
	}
	onSent, sent := sentSignal()
	passes := make(chan struct{}, 100)
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), OnSent: onSent, Poll: time.Hour,
		OnDepth: func(n int) { ob.elapse(n); passes <- struct{}{} },
	})
	pass := func() {
		t.Helper()
		select {
		case <-passes:
		case <-time.After(waitFor):
			t.Fatal("no pass")
		}
	}
	deferred := func() deferral {
		t.Helper()
		select {
		case df := <-ob.ch:
			return df
		case <-time.After(waitFor):
			t.Fatal("no deferral")
			return deferral{}
		}
	}
	run(t, d)
	pass() // the first, on an empty outbox
	enqueue(t, d, msg("prod/a/auth", 1))
	pass()
	first := deferred()
	enqueue(t, d, msg("prod/b/auth", 1))
	pass()
	da, db := deferred(), deferred()
	if !da.notBefore.Equal(db.notBefore) {
		t.Errorf("a round's messages deferred to %v (%s) and %v (%s), want one time",
			da.notBefore, da.id, db.notBefore, db.id)
	}
	if wait := da.notBefore.Sub(first.notBefore); !inJitter(wait, 2, DefaultMaxBackoff) {
		t.Errorf("second round waits %v, want Backoff(2)", wait)
	}
	down.Store(false)
	enqueue(t, d, msg("prod/c/auth", 1))
	waitSent(t, sent, 3)
	select {
	case df := <-ob.ch:
		t.Errorf("%s deferred to %v after Slack recovered", df.id, df.notBefore)
	default:
	}
}
