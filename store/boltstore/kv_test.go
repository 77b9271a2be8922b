package boltstore

import (
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/storetest"
)

// clocked is a store whose TTLs run on a storetest.Clock, so the contract
// suite moves time instead of sleeping.
type clocked struct {
	*Store
	*storetest.Clock
}

func openClocked(t *testing.T) store.Store {
	s, err := Open(filepath.Join(t.TempDir(), "credmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	clk := storetest.NewClock()
	s.now = clk.Now
	return clocked{s, clk}
}

func TestCoordination(t *testing.T) { storetest.RunCoordination(t, openClocked) }

func TestExpiredValuesAreDropped(t *testing.T) {
	c := openClocked(t).(clocked)
	defer c.Close()
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if err := c.Set(ctx, k, []byte("v"), storetest.ShortTTL); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(storetest.ShortTTL)
	if _, err := c.Get(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after expiry = %v", err)
	}
	if got, err := c.Scan(ctx, ""); err != nil || len(got) != 0 {
		t.Fatalf("Scan after expiry = %q, %v", got, err)
	}
	n := -1
	if err := c.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketKV).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d expired values still in the file after Get and Scan saw them expired", n)
	}
}

func TestCoordinationSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	ctx := t.Context()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "fp:prod/payments-key", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "tick:prod/api:1", "replica-a", storetest.LongTTL); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Get(ctx, "fp:prod/payments-key"); err != nil || string(v) != "v" {
		t.Errorf("after reopen Get = %q, %v", v, err)
	}
	if ok, err := s.Claim(ctx, "tick:prod/api:1", "replica-b", storetest.LongTTL); err != nil || ok {
		t.Errorf("after reopen another owner's Claim = %v, %v; want false (the claim is persisted)", ok, err)
	}
}
