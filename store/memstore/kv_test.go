package memstore

import (
	"testing"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/storetest"
)

// clocked is a store whose TTLs run on a storetest.Clock, so the contract
// suite moves time instead of sleeping.
type clocked struct {
	*Store
	*storetest.Clock
}

func openClocked(*testing.T) store.Store {
	s, clk := New(), storetest.NewClock()
	s.coord.now = clk.Now
	return clocked{s, clk}
}

func TestCoordination(t *testing.T) { storetest.RunCoordination(t, openClocked) }

func TestExpiredValuesAreDropped(t *testing.T) {
	c := openClocked(t).(clocked)
	ctx := t.Context()
	if err := c.Set(ctx, "k", []byte("v"), storetest.ShortTTL); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Claim(ctx, "c", "o", storetest.ShortTTL); err != nil {
		t.Fatal(err)
	}
	c.Advance(storetest.ShortTTL)
	if _, err := c.Get(ctx, "k"); err != store.ErrNotFound {
		t.Fatalf("Get after expiry = %v", err)
	}
	if _, err := c.Claim(ctx, "c", "o2", storetest.ShortTTL); err != nil {
		t.Fatal(err)
	}
	c.coord.mu.Lock()
	defer c.coord.mu.Unlock()
	if _, ok := c.coord.kv["k"]; ok {
		t.Error("an expired value read as absent is still held in memory")
	}
	if string(c.coord.claims["c"].val) != "o2" {
		t.Errorf("claim c held by %q, want o2", c.coord.claims["c"].val)
	}
}
