package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// sharedOutboxes are the outboxes replicas can share: one memstore in a
// process, the real Redis across processes.
func sharedOutboxes() map[string]func(t *testing.T) store.Outbox {
	return map[string]func(t *testing.T) store.Outbox{
		"memstore": func(t *testing.T) store.Outbox { return memstore.New() },
		"redis": func(t *testing.T) store.Outbox {
			client, prefix := storetest.Redis(t)
			return redisstore.New(client, prefix)
		},
	}
}

// tally counts deliveries across replicas, in delivery order.
type tally struct {
	mu    sync.Mutex
	count map[string]int
	order map[string][]string // by incident key
}

// notifier returns this replica's "slack", recording into the tally.
func (ta *tally) notifier() Notifier {
	r := newRecorder("slack")
	r.fail = func(m Message, n int) (bool, error) {
		ta.mu.Lock()
		defer ta.mu.Unlock()
		ta.count[m.ID]++
		ta.order[m.IncidentKey] = append(ta.order[m.IncidentKey], m.Detail)
		return false, nil
	}
	return r
}

func TestTwoReplicasDeliverEachMessageOnce(t *testing.T) {
	for name, open := range sharedOutboxes() {
		t.Run(name, func(t *testing.T) {
			ob := open(t)
			ta := &tally{count: map[string]int{}, order: map[string][]string{}}
			onSent, sent := sentSignal()
			var ds []*Dispatcher
			for _, owner := range []string{"replica-a", "replica-b"} {
				ds = append(ds, NewDispatcher(ob, []Notifier{ta.notifier()}, DispatcherOptions{
					Owner: owner, Logger: quiet(), OnSent: onSent, Batch: 4, Poll: 20 * time.Millisecond,
				}))
			}
			const groups, perGroup = 12, 6
			for _, d := range ds {
				run(t, d)
			}
			// Each replica enqueues half of every group's messages, in
			// order, while both deliver.
			for i := 1; i <= perGroup; i++ {
				for g := range groups {
					enqueue(t, ds[i%2], msg(fmt.Sprintf("prod/check-%d/auth", g), i))
				}
			}
			waitSent(t, sent, groups*perGroup)
			ta.mu.Lock()
			defer ta.mu.Unlock()
			if len(ta.count) != groups*perGroup {
				t.Errorf("%d distinct messages delivered, want %d", len(ta.count), groups*perGroup)
			}
			for id, n := range ta.count {
				if n != 1 {
					t.Errorf("message %s delivered %d times", id, n)
				}
			}
			want := "1,2,3,4,5,6"
			for g := range groups {
				if got := strings.Join(ta.order[fmt.Sprintf("prod/check-%d/auth", g)], ","); got != want {
					t.Errorf("group %d delivered in order %s, want %s", g, got, want)
				}
			}
		})
	}
}

// dying is a replica's view of the outbox that goes dark when the replica
// dies: it leased, but its Ack or Defer never reaches the store.
type dying struct {
	store.Outbox
	dead chan struct{}
}

var errDead = errors.New("replica died")

func (o *dying) isDead() bool {
	select {
	case <-o.dead:
		return true
	default:
		return false
	}
}

func (o *dying) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	if o.isDead() {
		return nil, errDead
	}
	return o.Outbox.Lease(ctx, owner, n, lease)
}

func (o *dying) Ack(ctx context.Context, id, owner string) error {
	if o.isDead() {
		return errDead
	}
	return o.Outbox.Ack(ctx, id, owner)
}

func (o *dying) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	if o.isDead() {
		return errDead
	}
	return o.Outbox.Defer(ctx, id, owner, notBefore)
}

func TestDeadReplicasEntryIsDeliveredAfterItsLease(t *testing.T) {
	for name, open := range sharedOutboxes() {
		t.Run(name, func(t *testing.T) {
			ob := open(t)
			dead := make(chan struct{})
			inFlight := make(chan struct{})
			// Replica a leases the message, then dies mid-send: nothing it
			// does afterwards reaches the store.
			ra := newRecorder("slack")
			ra.fail = func(m Message, n int) (bool, error) {
				close(inFlight)
				<-dead
				return true, errDead
			}
			a := NewDispatcher(&dying{Outbox: ob, dead: dead}, []Notifier{ra}, DispatcherOptions{
				Owner: "replica-a", Logger: quiet(), Lease: 300 * time.Millisecond,
			})
			enqueue(t, a, msg("prod/a/auth", 1))
			stopA := run(t, a)
			<-inFlight

			rb := newRecorder("slack")
			onSent, sent := sentSignal()
			b := NewDispatcher(ob, []Notifier{rb}, DispatcherOptions{
				Owner: "replica-b", Logger: quiet(), OnSent: onSent, Poll: 20 * time.Millisecond,
			})
			run(t, b)
			close(dead)
			stopA()
			waitSent(t, sent, 1)
			if got := rb.Sent(); len(got) != 1 || got[0].ID != "prod/a/auth/1-opened" {
				t.Fatalf("replica b delivered %+v, want the dead replica's message", got)
			}
			if n := len(ra.Sent()); n != 0 {
				t.Errorf("replica a delivered %d, want 0", n)
			}
			if n := depth(t, ob); n != 0 {
				t.Errorf("depth %d, want 0", n)
			}
		})
	}
}
