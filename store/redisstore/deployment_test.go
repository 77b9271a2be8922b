package redisstore_test

import (
	"testing"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// opened is a store Open made on a deployment (Cluster, Sentinel); its
// Replica opens another client on the same deployment and prefix, as
// another credmon process would.
type opened struct {
	*redisstore.Store
	opts redisstore.Options
}

func (o opened) Replica(t *testing.T) store.Store { return mustOpen(t, o.opts) }

func mustOpen(t *testing.T, opts redisstore.Options) opened {
	t.Helper()
	s, err := redisstore.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return opened{s, opts}
}

// runSuites runs every store contract suite on stores opened with opts,
// each under a prefix of its own.
func runSuites(t *testing.T, opts redisstore.Options) {
	open := func(t *testing.T) store.Store {
		o := opts
		o.KeyPrefix = storetest.NewPrefix()
		return mustOpen(t, o)
	}
	t.Run("Results", func(t *testing.T) { storetest.Run(t, open) })
	t.Run("Coordination", func(t *testing.T) { storetest.RunCoordination(t, open) })
	t.Run("Outbox", func(t *testing.T) { storetest.RunOutbox(t, open) })
}
