package notify

import (
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// plantIncident stores raw as the value of KV key key, behind the store's
// back, and returns the store to go on with.
type plantIncident func(t *testing.T, key string, raw []byte) store.KV

// damagedDB is the stored record damageIncidents damages.
var damagedDB = kvPrefix + checks.CheckSubject("prod", "db").Key()

// One stored incident record that does not read made every result of its
// subject fail for good (nothing replaced it), kept Forget from deleting
// it, and failed Open, so the status page showed no incident at all and
// Alertmanager's restatement round failed for every alert. Now Open lists
// the others and names it, the next result starts its subject afresh over
// it (and says the earlier state is lost), and Forget deletes it.
func damageIncidents(t *testing.T, kv store.KV, plant plantIncident) {
	ctx := context.Background()
	clock := newFakeClock(t0)
	opts := IncidentOptions{FailureThreshold: 1, Now: clock.Now, Owner: "replica-a"}
	failed := func(name string) checks.Result {
		clock.Advance(time.Minute)
		r := checks.Result{Env: "prod", Check: name, Started: clock.Now()}
		r.SetCause(checks.CauseRevoked, "", "")
		return r
	}
	in := NewIncidents(kv, opts)
	for _, name := range []string{"api", "db"} {
		if msgs, err := in.Observe(ctx, failed(name)); err != nil || events(msgs) != "opened" {
			t.Fatalf("Observe(%s) = %s, %v; want opened", name, events(msgs), err)
		}
	}
	wantDamage := func(what string, err error) {
		t.Helper()
		var d *store.DamagedError
		if !errors.As(err, &d) || d.What != store.StoredIncidents || !slices.Equal(d.Keys, []string{damagedDB}) {
			t.Fatalf("%s error = %v; want a *store.DamagedError naming only %s", what, err, damagedDB)
		}
	}
	openKeys := func(want ...string) {
		t.Helper()
		open, err := in.Open(ctx)
		if want[0] == "damaged" {
			wantDamage("Open", err)
			want = want[1:]
		} else if err != nil {
			t.Fatalf("Open: %v", err)
		}
		var got []string
		for _, s := range open {
			got = append(got, s.Subject)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Open = %q, want %q", got, want)
		}
	}
	damage := `{"open":{"key":7}}` // JSON, of the wrong types
	in = NewIncidents(plant(t, damagedDB, []byte(damage)), opts)
	openKeys("damaged", "api")

	msgs, err := in.Observe(ctx, failed("db"))
	wantDamage("Observe", err)
	if events(msgs) != "opened" {
		t.Fatalf("Observe over the damaged record = %q, want opened: a fresh start", events(msgs))
	}
	openKeys("api", "db")

	in = NewIncidents(plant(t, damagedDB, []byte(damage)), opts)
	msgs, err = in.Forget(ctx, checks.CheckSubject("prod", "db"))
	wantDamage("Forget", err)
	if len(msgs) != 0 {
		t.Errorf("Forget of a damaged record = %q, want no message", events(msgs))
	}
	if _, err := in.kv.Get(ctx, damagedDB); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after Forget, Get(%s) = %v; want ErrNotFound", damagedDB, err)
	}
	openKeys("api")
}

func TestDamagedIncidentBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "credmon.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	damageIncidents(t, st, func(t *testing.T, key string, raw []byte) store.KV {
		st = plantBoltKV(t, st, path, key, raw)
		return st
	})
}

// plantBoltKV closes st, stores raw as KV key key in its bolt file through
// bbolt, and returns the store opened again.
func plantBoltKV(t *testing.T, st *boltstore.Store, path, key string, raw []byte) *boltstore.Store {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As boltstore seals a value: an expiry (0, none), then the value.
	sealed := binary.BigEndian.AppendUint64(nil, 0)
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("kv")).Put([]byte(key), append(sealed, raw...))
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	if st, err = boltstore.Open(path); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDamagedIncidentRedis(t *testing.T) {
	client, prefix := storetest.Redis(t)
	st := redisstore.New(client, prefix)
	damageIncidents(t, st, func(t *testing.T, key string, raw []byte) store.KV {
		if err := client.Set(context.Background(), prefix+"kv:"+key, raw, 0).Err(); err != nil {
			t.Fatal(err)
		}
		return st
	})
}
