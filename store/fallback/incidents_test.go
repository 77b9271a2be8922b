package fallback_test

import (
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestIncidentsExactlyOnceThroughAnOutage: the incident engine over the
// fallback store on a real Redis that is killed and comes back empty. The
// incident opened before the outage changes cause during it, and resolves
// after it: each transition produces exactly one message — the incident
// is not opened a second time because Redis forgot it, nor because the
// state written during the outage stayed local.
func TestIncidentsExactlyOnceThroughAnOutage(t *testing.T) {
	t.Run("redis restarted empty", func(t *testing.T) { incidentsThroughOutage(t, true) })
	// A frozen Redis (SIGSTOP) is a partition: it comes back with the
	// state from before the outage, which the outage's writes must update.
	t.Run("redis partitioned, back with its data", func(t *testing.T) { incidentsThroughOutage(t, false) })
}

func incidentsThroughOutage(t *testing.T, empty bool) {
	srv := storetest.StartRedisServer(t)
	ctx := t.Context()
	primary, err := redisstore.Open(ctx, redisstore.Options{URL: srv.URL(), KeyPrefix: "credmon-test:", DialTimeout: time.Second, CommandTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	changes := newChanges()
	s := fallback.New(primary, memstore.New(), fallback.Options{
		ProbeEvery: 50 * time.Millisecond, OnChange: changes.record, Logger: discard,
		Unreachable: redisstore.Unreachable, Uncertain: redisstore.Uncertain, Reseed: notify.StatePrefixes,
	})
	t.Cleanup(func() { s.Close() })
	s.Start(ctx)

	clock := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	in := notify.NewIncidents(s, notify.IncidentOptions{FailureThreshold: 2, SuccessThreshold: 2, Now: func() time.Time { return clock }})
	var events []string
	observe := func(cause checks.Cause) {
		t.Helper()
		clock = clock.Add(time.Minute)
		r := checks.Result{Env: "prod", Check: "payments", Credential: "key", Started: clock}
		r.SetCause(cause, "", "")
		msgs, err := in.Observe(ctx, r)
		if err != nil {
			t.Fatalf("Observe(%s): %v", cause, err)
		}
		for _, m := range msgs {
			events = append(events, string(m.Event)+":"+string(m.Cause))
		}
	}

	observe(checks.CauseUnauthorized)
	observe(checks.CauseUnauthorized) // opened

	if empty {
		srv.Kill()
	} else {
		freeze(t, srv)
	}
	if up := changes.wait(t); up {
		t.Fatal("the store did not notice the outage")
	}
	observe(checks.CauseUnauthorized)
	observe(checks.CauseRevoked) // cause changed, decided locally

	if empty {
		restart(t, srv) // the same port, no data: Redis without persistence
	} else {
		thaw(t, srv)
	}
	if up := changes.wait(t); !up {
		t.Fatal("the store did not come back")
	}
	observe(checks.CauseRevoked) // still open: no message
	observe(checks.CauseOK)
	observe(checks.CauseOK) // resolved

	want := "opened:unauthorized cause_changed:revoked resolved:ok"
	if got := strings.Join(events, " "); got != want {
		t.Errorf("messages through the outage:\n got %s\nwant %s", got, want)
	}
}

// TestEveryReplicaReseedsAnEmptiedRedis: two replicas, each with an open
// incident of its own, and a Redis restarted empty. The replica that
// catches up first must not keep the other from writing its incident
// back: both stay open (no second "opened"), whichever comes back first.
func TestEveryReplicaReseedsAnEmptiedRedis(t *testing.T) {
	srv := storetest.StartRedisServer(t)
	ctx := t.Context()
	clock := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	type replica struct {
		s   *fallback.Store
		in  *notify.Incidents
		chk string
	}
	open := func(chk string) replica {
		primary, err := redisstore.Open(ctx, redisstore.Options{URL: srv.URL(), KeyPrefix: "credmon-test:", DialTimeout: time.Second, CommandTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		// No Start: the test calls Probe itself, to choose who catches up first.
		s := fallback.New(primary, memstore.New(), fallback.Options{Logger: discard, Unreachable: redisstore.Unreachable, Uncertain: redisstore.Uncertain, Reseed: notify.StatePrefixes})
		t.Cleanup(func() { s.Close() })
		s.Probe(ctx) // sees the epoch
		return replica{s: s, chk: chk, in: notify.NewIncidents(s, notify.IncidentOptions{FailureThreshold: 1, SuccessThreshold: 1, Now: func() time.Time { return clock }})}
	}
	a, b := open("payments"), open("billing")
	observe := func(r replica, cause checks.Cause) []string {
		t.Helper()
		clock = clock.Add(time.Second)
		res := checks.Result{Env: "prod", Check: r.chk, Credential: "key", Started: clock}
		res.SetCause(cause, "", "")
		msgs, err := r.in.Observe(ctx, res)
		if err != nil {
			t.Fatalf("Observe(%s, %s): %v", r.chk, cause, err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, r.chk+":"+string(m.Event))
		}
		return out
	}
	if got := append(observe(a, checks.CauseUnauthorized), observe(b, checks.CauseUnauthorized)...); strings.Join(got, " ") != "payments:opened billing:opened" {
		t.Fatalf("before the outage: %v; want both opened", got)
	}

	srv.Kill()
	a.s.Probe(ctx)
	b.s.Probe(ctx)
	if a.s.Healthy() || b.s.Healthy() {
		t.Fatal("the replicas did not notice the outage")
	}
	restart(t, srv)
	b.s.Probe(ctx) // b first: it writes a new epoch and its own incident back
	a.s.Probe(ctx)
	if !a.s.Healthy() || !b.s.Healthy() {
		t.Fatal("the replicas did not catch up")
	}
	if got := append(observe(a, checks.CauseUnauthorized), observe(b, checks.CauseUnauthorized)...); len(got) != 0 {
		t.Errorf("after Redis came back empty: %v; want no message (both incidents still open)", got)
	}
	if got := append(observe(a, checks.CauseOK), observe(b, checks.CauseOK)...); strings.Join(got, " ") != "payments:resolved billing:resolved" {
		t.Errorf("recovery: %v; want each resolved once", got)
	}
}
