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
	srv := newRedisServer(t)
	ctx := t.Context()
	primary, err := redisstore.Open(ctx, redisstore.Options{URL: srv.url(), KeyPrefix: "credmon-test:", DialTimeout: time.Second, CommandTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	changes := newChanges()
	s := fallback.New(primary, memstore.New(), fallback.Options{
		ProbeEvery: 50 * time.Millisecond, OnChange: changes.record, Logger: discard,
		Unreachable: redisstore.Unreachable, Reseed: notify.StatePrefixes,
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
		srv.kill()
	} else {
		srv.freeze(t)
	}
	if up := changes.wait(t); up {
		t.Fatal("the store did not notice the outage")
	}
	observe(checks.CauseUnauthorized)
	observe(checks.CauseRevoked) // cause changed, decided locally

	if empty {
		srv.start(t) // the same port, no data: Redis without persistence
	} else {
		srv.thaw(t)
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
