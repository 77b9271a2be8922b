package notify

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// FuzzIncidentRecord feeds arbitrary bytes as a subject's stored incident
// record (damaged, hostile, or written by another version) next to another
// subject's open incident. Whatever they are: nothing panics; Open lists
// the other incident and fails for nothing else; the subject's next result
// is applied, a record that does not read being replaced by one that does;
// Forget deletes it.
func FuzzIncidentRecord(f *testing.F) {
	for _, raw := range []string{
		`{"env":"prod","subject":"db","last":"2025-03-01T09:02:00Z","failures":1,"successes":0,"seq":1,"open":{"key":"prod/db/auth","env":"prod","subject":"db","family":"auth","cause":"revoked","status":"fail","since":"2025-03-01T09:02:00Z","failures":0}}`,
		`{"open":{"key":7}}`,
		`{"failures":-3,"successes":-1,"seq":18446744073709551615}`,
		`{"bands":[{}],"open":{}}`,
		`{"open":`,
		`null`,
		`[]`,
		``,
	} {
		f.Add([]byte(raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx := context.Background()
		kv := memstore.New()
		clock := newFakeClock(t0)
		in := NewIncidents(kv, IncidentOptions{FailureThreshold: 1, Now: clock.Now})
		failed := func(name string) checks.Result {
			clock.Advance(time.Minute)
			r := checks.Result{Env: "prod", Check: name, Started: clock.Now()}
			r.SetCause(checks.CauseRevoked, "", "")
			return r
		}
		if _, err := in.Observe(ctx, failed("api")); err != nil {
			t.Fatal(err)
		}
		if err := kv.Set(ctx, damagedDB, raw, 0); err != nil {
			t.Fatal(err)
		}
		onlyDamage := func(what string, err error) {
			t.Helper()
			var d *store.DamagedError
			if err != nil && (!errors.As(err, &d) || !slices.Equal(d.Keys, []string{damagedDB})) {
				t.Fatalf("%s error = %v; want none or a *store.DamagedError naming only %s", what, err, damagedDB)
			}
		}
		open, err := in.Open(ctx)
		onlyDamage("Open", err)
		if !slices.ContainsFunc(open, func(s IncidentState) bool { return s.Subject == "api" }) {
			t.Fatalf("Open = %+v; the other subject's incident is missing", open)
		}

		// Far enough ahead of every seed's last result to be applied.
		clock.Advance(time.Hour)
		_, err = in.Observe(ctx, failed("db"))
		onlyDamage("Observe", err)
		after, err := kv.Get(ctx, damagedDB)
		if _, derr := decodeRecord(after); err != nil || derr != nil {
			t.Fatalf("after Observe the record is %q, %v: does not read (%v)", after, err, derr)
		}
		if _, err := in.Open(ctx); err != nil {
			t.Fatalf("Open after Observe: %v", err)
		}

		if err := kv.Set(ctx, damagedDB, raw, 0); err != nil {
			t.Fatal(err)
		}
		_, err = in.Forget(ctx, checks.CheckSubject("prod", "db"))
		onlyDamage("Forget", err)
		if _, err := kv.Get(ctx, damagedDB); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after Forget, Get = %v; want ErrNotFound", err)
		}
	})
}
