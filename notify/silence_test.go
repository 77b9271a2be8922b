package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/store/memstore"
)

// TestSilencedMessageHeldThenSentOnce: a message a silence matches is not
// delivered while the silence lasts, is delivered exactly once when it
// ends, a reminder due meanwhile is dropped, and a message the silence
// does not match goes at once.
func TestSilencedMessageHeldThenSentOnce(t *testing.T) {
	clock := newFakeClock(t0)
	st := memstore.New()
	sil := NewSilences(st, nil, clock.Now)
	s, err := sil.Add(context.Background(), SilenceMatch{Env: "prod", Check: "api"}, 10*time.Minute, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	ob := &deferLog{Outbox: st, ch: make(chan deferral, 1000), clock: clock}
	rec := newRecorder("slack")
	onSent, sent := sentSignal()
	d := NewDispatcher(ob, []Notifier{rec}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), OnSent: onSent, Poll: 50 * time.Millisecond, Silences: sil,
	})
	held := Message{ID: "prod/api/auth/1-opened", IncidentKey: "prod/api/auth", Event: EventOpened, Env: "prod", Check: "api"}
	reminder := Message{ID: "prod/api/expiry/1-reminder", IncidentKey: "prod/api/expiry", Event: EventReminder, Env: "prod", Check: "api"}
	other := Message{ID: "prod/web/auth/1-opened", IncidentKey: "prod/web/auth", Event: EventOpened, Env: "prod", Check: "web"}
	enqueue(t, d, held, reminder, other)
	stop := run(t, d)
	defer stop()

	waitSent(t, sent, 1)
	if got := rec.Sent(); len(got) != 1 || got[0].ID != other.ID {
		t.Fatalf("sent while silenced: %v, want only %s", ids(got), other.ID)
	}
	select {
	case df := <-ob.ch:
		if df.id != held.ID+"/slack" {
			t.Fatalf("deferred %s, want %s", df.id, held.ID+"/slack")
		}
		if !df.notBefore.After(t0) || df.notBefore.After(s.End) {
			t.Errorf("held until %v, want after %v and not after the silence's end %v", df.notBefore, t0, s.End)
		}
	case <-time.After(waitFor):
		t.Fatal("silenced message was not held")
	}
	// The reminder is settled on its own goroutine: wait until only the
	// held message is left before ending the silence.
	deadline := time.Now().Add(waitFor)
	for depth(t, st) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox depth %d while silenced, want 1 (the held message)", depth(t, st))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := rec.Sent(); len(got) != 1 {
		t.Fatalf("sent while silenced: %v", ids(got))
	}

	clock.Advance(10*time.Minute + 2*time.Second) // past the end and the cache
	waitSent(t, sent, 1)
	// Wait for the outbox to settle, then nothing else may have gone out.
	deadline = time.Now().Add(waitFor)
	for depth(t, st) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("outbox depth %d after the silence ended", depth(t, st))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	got := rec.Sent()
	if len(got) != 2 || got[1].ID != held.ID {
		t.Fatalf("sent %v, want %s then %s (the reminder dropped)", ids(got), other.ID, held.ID)
	}
	if n := rec.attempts[held.ID]; n != 1 {
		t.Errorf("held message attempted %d times, want 1", n)
	}
}

// TestSilenceExpireReleases: expiring a silence ends it now, for every
// reader of the store.
func TestSilenceExpireReleases(t *testing.T) {
	clock := newFakeClock(t0)
	st := memstore.New()
	a := NewSilences(st, nil, clock.Now)
	b := NewSilences(st, nil, clock.Now) // another replica
	s, err := a.Add(context.Background(), SilenceMatch{Env: "prod"}, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	m := Message{Env: "prod", Check: "x"}
	if until := b.Until(context.Background(), m, t0); !until.Equal(s.End) {
		t.Fatalf("other replica: silenced until %v, want %v", until, s.End)
	}
	if until := b.Until(context.Background(), Message{Env: "staging"}, t0); !until.IsZero() {
		t.Errorf("staging silenced until %v by a prod silence", until)
	}
	clock.Advance(time.Minute)
	if _, err := a.Expire(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	later := clock.Now().Add(2 * time.Second) // past b's cache
	if until := b.Until(context.Background(), m, later); !until.IsZero() {
		t.Errorf("expired silence still holds until %v", until)
	}
	if _, err := a.Expire(context.Background(), "nope"); !errors.Is(err, ErrSilenceNotFound) {
		t.Errorf("Expire(unknown) = %v, want ErrSilenceNotFound", err)
	}
	rt, err := a.Runtime(context.Background())
	if err != nil || len(rt) != 1 || !rt[0].End.Equal(t0.Add(time.Minute)) {
		t.Errorf("Runtime() = %+v, %v; want the silence ended at %v", rt, err, t0.Add(time.Minute))
	}
}

// TestMaintenanceWindow: a cron start plus a duration is active from each
// tick for the duration, and a fixed window between its two instants.
func TestMaintenanceWindow(t *testing.T) {
	fri, err := schedule.Parse("0 22 * * 5") // Fridays 22:00
	if err != nil {
		t.Fatal(err)
	}
	w := Window{Match: SilenceMatch{Env: "staging"}, Every: fri, Duration: 60 * time.Hour, Comment: "weekend freeze"}
	// 2025-03-07 is a Friday.
	friday := time.Date(2025, 3, 7, 22, 0, 0, 0, time.UTC)
	cases := []struct {
		at     time.Time
		active bool
	}{
		{friday.Add(-time.Second), false},
		{friday, true},
		{friday.Add(30 * time.Hour), true},
		{friday.Add(60*time.Hour - time.Second), true},
		{friday.Add(60 * time.Hour), false}, // Monday 10:00
		{friday.Add(4 * 24 * time.Hour), false},
		{friday.Add(7 * 24 * time.Hour), true},
	}
	for _, c := range cases {
		s, ok := w.At(c.at)
		if ok != c.active {
			t.Errorf("At(%v) active = %v, want %v", c.at, ok, c.active)
		}
		if ok && (!s.End.Equal(s.Start.Add(60*time.Hour)) || s.Start.Weekday() != time.Friday || s.Source != SourceMaintenance) {
			t.Errorf("At(%v) = %+v", c.at, s)
		}
	}
	fixed := Window{Start: friday, End: friday.Add(time.Hour)}
	for at, want := range map[time.Time]bool{friday.Add(-1): false, friday: true, friday.Add(time.Hour - 1): true, friday.Add(time.Hour): false} {
		if _, ok := fixed.At(at); ok != want {
			t.Errorf("fixed At(%v) = %v, want %v", at, ok, want)
		}
	}
	sil := NewSilences(nil, []Window{w}, nil)
	if until := sil.Until(context.Background(), Message{Env: "staging"}, friday.Add(time.Hour)); !until.Equal(friday.Add(60 * time.Hour)) {
		t.Errorf("staging held until %v, want %v", until, friday.Add(60*time.Hour))
	}
	if until := sil.Until(context.Background(), Message{Env: "prod"}, friday.Add(time.Hour)); !until.IsZero() {
		t.Errorf("prod held until %v by a staging window", until)
	}
}

func ids(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// TestSilenceSeries: credmon_silences_active counts the active silences by
// source, credmon_outbox_silenced the entries held for them; both fall
// when the silence ends and its messages go out.
func TestSilenceSeries(t *testing.T) {
	clock := newFakeClock(t0)
	st := memstore.New()
	window := Window{Match: SilenceMatch{Env: "staging"}, Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Comment: "freeze"}
	sil := NewSilences(st, []Window{window}, clock.Now)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	active := func(runtime, maintenance int) {
		t.Helper()
		want := fmt.Sprintf(`# HELP credmon_silences_active Silences holding notifications now, by source: runtime (credmon silence add) or maintenance (a configured window).
# TYPE credmon_silences_active gauge
credmon_silences_active{source="maintenance"} %d
credmon_silences_active{source="runtime"} %d
`, maintenance, runtime)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "credmon_silences_active"); err != nil {
			t.Error(err)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "credmon_silences_active"); err != nil || n != 0 {
		t.Errorf("before ObserveSilences: %d series, %v; want none", n, err)
	}
	m.ObserveSilences(sil)
	active(0, 1)
	if _, err := sil.Add(context.Background(), SilenceMatch{Env: "prod"}, 10*time.Minute, "deploy"); err != nil {
		t.Fatal(err)
	}
	active(1, 1)

	// OnDepth comes after a pass has set its series.
	passed := make(chan struct{}, 1)
	onSent, sent := sentSignal()
	d := NewDispatcher(st, []Notifier{newRecorder("slack")}, DispatcherOptions{
		Owner: "a", Now: clock.Now, Logger: quiet(), Poll: 20 * time.Millisecond, Silences: sil, Metrics: m, OnSent: onSent,
		OnDepth: func(int) {
			select {
			case passed <- struct{}{}:
			default:
			}
		},
	})
	enqueue(t, d, msg("prod/a/auth", 1), msg("prod/b/auth", 1))
	run(t, d)
	held := func(want float64) {
		t.Helper()
		deadline := time.After(waitFor)
		for {
			select {
			case <-passed:
				if testutil.ToFloat64(m.outboxSilenced) == want {
					return
				}
			case <-deadline:
				t.Fatalf("credmon_outbox_silenced = %v, want %v", testutil.ToFloat64(m.outboxSilenced), want)
			}
		}
	}
	held(2)

	clock.Advance(10*time.Minute + 2*time.Second) // past the end and the cache
	active(0, 1)
	waitSent(t, sent, 2)
	held(0)
}
