package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/credmon/credmon/bench/alerts/fakeslack"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/slack"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

const outageBotToken = "xoxb-FAKE-outage-0000"

// outageStore is what delivery through Slack needs of a store: the outbox,
// and the KV that keeps incident threads.
type outageStore interface {
	store.Outbox
	store.KV
}

// TestDeliveryThroughSlackOutage is the outage benchmark (bench/alerts)
// scaled down: Slack answers 500, then 429 with Retry-After, then recovers,
// while three incidents' messages wait in the outbox. Phases end by request
// count, not time, so every run goes through both failures.
func TestDeliveryThroughSlackOutage(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) outageStore{
		"memstore": func(*testing.T) outageStore { return memstore.New() },
		"redis": func(t *testing.T) outageStore {
			client, prefix := storetest.Redis(t)
			return redisstore.New(client, prefix)
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			outage(t, open(t))
		})
	}
}

func outage(t *testing.T, st outageStore) {
	const incidents = 3
	fake := fakeslack.New(fakeslack.Options{
		Token: outageBotToken,
		Phases: []fakeslack.Phase{
			// The openings are the only messages due, so they take every failure.
			{Requests: 2 * incidents, Status: http.StatusInternalServerError},
			{Requests: incidents, Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		},
	})
	t.Cleanup(fake.Close)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := slack.New(slack.Options{
		BotToken: outageBotToken,
		Channel:  "#prod-credentials",
		APIURL:   fake.APIURL(),
		Threads:  slack.KVThreads(st),
		Logger:   quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := fakeslack.Incidents(incidents, time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC))
	sent := make(chan struct{}, 4*len(msgs))
	// The dispatcher's account of each attempt shows only when the test
	// fails: it is what tells a store stall from a slow Slack.
	d := notify.NewDispatcher(st, []notify.Notifier{n}, notify.DispatcherOptions{
		Owner: "outage-test",
		Lease: 10 * time.Second,
		Poll:  50 * time.Millisecond,
		// Real-time backoff: capped low, so a loaded machine (entries
		// leased in more passes, so more rounds of backoff) stays well
		// inside the hang guard.
		MaxBackoff: 2 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(t.Output(), nil)),
		OnSent:     func(string) { sent <- struct{}{} },
	})

	// A hang guard, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { stopped <- d.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-stopped; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	for _, m := range msgs {
		if err := d.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// OnSent fires after the Ack, so once it has fired for every message
	// the outbox has nothing left to send twice.
	for range msgs {
		select {
		case <-sent:
		case <-ctx.Done():
			v := fakeslack.Verify(msgs, fake.Requests())
			t.Fatalf("not delivered within the bound: %v", v.Problems())
		}
	}
	if n, err := st.Depth(ctx); err != nil || n != 0 {
		t.Fatalf("outbox depth after delivery = %d, %v; want 0", n, err)
	}

	reqs := fake.Requests()
	tot := fakeslack.Count(reqs)
	if tot.Status5xx != 2*incidents || tot.Status429 != incidents {
		t.Errorf("the outage was not exercised: %d 500s, %d 429s; want %d and %d", tot.Status5xx, tot.Status429, 2*incidents, incidents)
	}
	v := fakeslack.Verify(msgs, reqs)
	for _, p := range v.Problems() {
		t.Error(p)
	}
	// Slack limits the app, not the message: after a 429 nothing goes to
	// Slack until its Retry-After has passed, except requests already on
	// their way when the answer came back.
	_, limited := fakeslack.RetryAfterViolations(reqs, 100*time.Millisecond)
	for _, l := range limited {
		t.Errorf("%s %s sent at t+%v, inside the Retry-After of the 429 answered at t+%v",
			l.Request.Incident, l.Request.Event, l.Request.At, l.Limited.Done)
	}
	// Every message once, plus one chat.update per resolved incident.
	if want := len(msgs) + incidents; tot.Accepted != want {
		t.Errorf("Slack accepted %d calls, want %d", tot.Accepted, want)
	}
	for _, r := range reqs {
		if r.Status == http.StatusOK && !r.Accepted {
			t.Errorf("%s %s %s answered %s", r.Method, r.Incident, r.Event, r.Error)
		}
	}
}
