package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/credmon/credmon/bench/alerts/fakeslack"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
)

// runChild is the replica the kill scenario re-executes and kills: a
// Dispatcher on the shared Redis outbox whose Slack requests carry its
// name, so the fake can hang them. It reports each entry it leases on
// stdout as "leased UNIXNANO ID", before delivering it.
func runChild(ctx context.Context, o options) error {
	if o.prefix == "" || o.slackAPI == "" || o.replicaID == "" {
		return fmt.Errorf("-role dispatcher needs -prefix, -slack-api and -replica")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	// The parent holds stdin open: EOF means it is gone, and so should we be.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	// No cleanup: the keys are the parent's, and it deletes them.
	st, _, _, err := openStore(ctx, "redis", o.redisURL, o.prefix)
	if err != nil {
		return err
	}
	log := logger(o.verbose)
	n, err := newNotifier(o.slackAPI, st, fakeslack.ReplicaTransport(o.replicaID, nil), log)
	if err != nil {
		return err
	}
	d := notify.NewDispatcher(&leaseReport{Outbox: st, w: os.Stdout}, []notify.Notifier{n}, notify.DispatcherOptions{
		Owner: "bench-" + o.replicaID, Lease: o.lease, Poll: o.poll, Logger: log,
	})
	return d.Run(ctx)
}

// leaseReport tells the parent which entries this replica holds.
type leaseReport struct {
	store.Outbox
	mu sync.Mutex
	w  io.Writer
}

func (o *leaseReport) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	es, err := o.Outbox.Lease(ctx, owner, n, lease)
	now := time.Now().UnixNano()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range es {
		fmt.Fprintf(o.w, "leased %d %s\n", now, e.ID)
	}
	return es, err
}
