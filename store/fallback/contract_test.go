package fallback_test

import (
	"testing"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/storetest"
)

// The wrapper is a store in its own right, both with the primary up and
// with every call served locally.
func TestContract(t *testing.T) {
	for name, down := range map[string]bool{"PrimaryUp": false, "PrimaryDown": true} {
		open := func(t *testing.T) store.Store {
			p := newFlaky()
			p.down.Store(down)
			return fallback.New(p, memstore.New(), fallback.Options{Logger: discard})
		}
		t.Run(name, func(t *testing.T) {
			t.Run("Results", func(t *testing.T) { storetest.Run(t, open) })
			storetest.RunCoordination(t, open)
			t.Run("Outbox", func(t *testing.T) { storetest.RunOutbox(t, open) })
		})
	}
}
