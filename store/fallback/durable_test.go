package fallback_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/storetest"
)

// TestOutageWorkSurvivesARestart: with a bolt file as the local store, a
// replica that dies during an outage loses nothing it queued — a message
// enqueued during the outage reaches the shared store, and a message it
// delivered during the outage (its ack still owed to the shared store)
// is acked there, not delivered again — when the restarted replica sees
// the shared store return.
func TestOutageWorkSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credmon-fallback.db")
	primary := newFlaky()

	delivered := storetest.Entry("prod/api/auth", 0)
	if err := primary.Enqueue(ctx, delivered); err != nil {
		t.Fatal(err)
	}
	local, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := fallback.New(primary, local, fallback.Options{Logger: discard})
	leased, err := s.Lease(ctx, "replica-a", 10, time.Minute)
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease before the outage = %v, %v", leased, err)
	}
	primary.down.Store(true)
	if err := s.Ack(ctx, delivered.ID, "replica-a"); err != nil {
		t.Fatalf("ack during the outage: %v", err)
	}
	queued := storetest.Entry("prod/billing/auth", 0)
	if err := s.Enqueue(ctx, queued); err != nil {
		t.Fatal(err)
	}
	// The replica dies: only its bolt file remains.
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}

	local, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	s = fallback.New(primary, local, fallback.Options{Logger: discard})
	primary.down.Store(false)
	s.Probe(ctx)
	if !s.Healthy() {
		t.Fatal("the shared store is back but the restarted replica did not catch it up")
	}
	got, err := primary.Lease(ctx, "replica-b", 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != queued.ID {
		t.Fatalf("the shared outbox holds %v; want only %s (the one delivered during the outage acked, the one queued moved in)", got, queued.ID)
	}
	if n, err := local.Depth(ctx); err != nil || n != 0 {
		t.Errorf("local outbox after catch-up: %d, %v; want empty", n, err)
	}
	// A third start owes nothing: the kept ack was dropped once sent.
	if err := local.Close(); err != nil {
		t.Fatal(err)
	}
	local, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if kept, err := local.Scan(ctx, "fallback:pending-ack:"); err != nil || len(kept) != 0 {
		t.Errorf("acks kept after catch-up: %v, %v; want none", kept, err)
	}
}
