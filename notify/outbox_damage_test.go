package notify

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
)

// countingOutbox signals each Lease (to a reader that is waiting) and
// counts the damaged entries the store reports.
type countingOutbox struct {
	store.Outbox
	leases  chan struct{}
	damaged int // read once Run has returned
}

func (o *countingOutbox) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	es, err := o.Outbox.Lease(ctx, owner, n, lease)
	if d := (*store.DamagedError)(nil); errors.As(err, &d) {
		o.damaged += len(d.Keys)
	}
	select {
	case o.leases <- struct{}{}:
	default:
	}
	return es, err
}

// One stored outbox entry that does not read (a damaged bolt file) held
// every message back before: Lease failed for all of them and the outbox
// showed as unavailable. Now the others are delivered, the damaged one is
// reported by ID in Health, and it is not met again on every poll: the
// store holds it back a lease.
func TestDispatcherDeliversPastADamagedEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	enqueuer := NewDispatcher(st, []Notifier{newRecorder("slack")}, DispatcherOptions{Owner: "a", Logger: quiet()})
	enqueue(t, enqueuer, msg("db", 1), msg("api", 1), msg("api", 2))
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	bad := msg("db", 1).ID + "/slack"
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("outbox_entries")).Put([]byte(bad), []byte(`{"entry":{"id":`))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	ob := &countingOutbox{Outbox: st, leases: make(chan struct{})}
	onSent, sent := sentSignal()
	d := NewDispatcher(ob, []Notifier{newRecorder("slack")}, DispatcherOptions{Owner: "b", Logger: quiet(), Poll: 10 * time.Millisecond, OnSent: onSent})
	stop := run(t, d)
	waitSent(t, sent, 2)
	// A few more passes: the damaged entry is still held back.
	for range 5 {
		select {
		case <-ob.leases:
		case <-time.After(waitFor):
			t.Fatal("no Lease call")
		}
	}
	stop()
	if ob.damaged != 1 {
		t.Errorf("the damaged entry was reported by %d Lease calls, want 1 (held back a lease after it)", ob.damaged)
	}
	h := d.Health()
	if len(h) != 1 || !strings.Contains(h[0], "outbox: 1 message(s) held back") || !strings.Contains(h[0], "stored entry does not read") ||
		!strings.Contains(h[0], "retried every 30s") {
		t.Errorf("Health = %q, want the damaged entry held back", h)
	}
	if n, err := st.Depth(context.Background()); err != nil || n != 1 {
		t.Errorf("Depth = %d, %v; want 1, the damaged entry kept", n, err)
	}
}
