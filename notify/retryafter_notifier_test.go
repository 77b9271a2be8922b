package notify_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// limitedErr is a 429: Slack's Retry-After applies to the app and method,
// not to the one message that got it.
type limitedErr struct{}

func (limitedErr) Error() string             { return "slack chat.postMessage: rate limited, retry after 1h" }
func (limitedErr) RetryAfter() time.Duration { return time.Hour }

type limitedNotifier struct {
	mu   sync.Mutex
	sent []string
}

func (n *limitedNotifier) Name() string { return "slack" }
func (n *limitedNotifier) Notify(_ context.Context, m notify.Message) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, m.ID)
	return true, limitedErr{}
}

// watchedOutbox reports, from Run's goroutine, each Lease begun once armed
// and with both entries stored; OnDepth then marks the end of that pass.
type watchedOutbox struct {
	store.Outbox
	armed  atomic.Bool
	events chan string
}

func (o *watchedOutbox) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	if o.armed.Load() {
		if n, err := o.Outbox.Depth(ctx); err == nil && n >= 2 {
			o.events <- "lease"
		}
	}
	return o.Outbox.Lease(ctx, owner, n, lease)
}

// After a 429 with Retry-After: 1h, a message of another incident must not
// be sent to the same notifier within the hour.
func TestRetryAfterHoldsTheNotifier(t *testing.T) {
	ob := &watchedOutbox{Outbox: memstore.New(), events: make(chan string, 64)}
	n := &limitedNotifier{}
	failed := make(chan struct{}, 8)
	d := notify.NewDispatcher(ob, []notify.Notifier{n}, notify.DispatcherOptions{
		Poll:     time.Hour, // passes happen only when nudged by Enqueue
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnFailed: func(string, bool) { failed <- struct{}{} },
		OnDepth: func(int) {
			if ob.armed.Load() {
				ob.events <- "depth"
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	if err := d.Enqueue(ctx, notify.Message{ID: "a-opened", IncidentKey: "prod/a/auth", Event: notify.EventOpened}); err != nil {
		t.Fatal(err)
	}
	<-failed // a got the 429
	ob.armed.Store(true)
	if err := d.Enqueue(ctx, notify.Message{ID: "b-opened", IncidentKey: "prod/b/auth", Event: notify.EventOpened}); err != nil {
		t.Fatal(err)
	}
	// Enqueue nudges after storing b, so some pass leases after that.
	for ev := range ob.events { // a pass that began with b stored…
		if ev == "lease" {
			break
		}
	}
	for ev := range ob.events { // …has finished
		if ev == "depth" {
			break
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.sent) != 1 {
		t.Errorf("sent %v within the Retry-After of the first 429; want only [a-opened]", n.sent)
	}
}
