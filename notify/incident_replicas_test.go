package notify

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// replicaScript is what every subject reports, step by step: an auth
// incident with a cause change and a reminder, then an availability
// incident replaced by an auth one, then an auth incident left open:
// four incidents.
var replicaScript = []struct {
	wait  time.Duration
	cause checks.Cause
}{
	{0, checks.CauseUnauthorized},
	{0, checks.CauseUnauthorized},             // opened
	{0, checks.CauseRevoked},                  // cause_changed
	{5 * time.Hour, checks.CauseRevoked},      // reminder
	{0, checks.CauseOK},                       // resolved
	{0, checks.CauseUnreachable},              //
	{0, checks.CauseUnreachable},              // opened (availability)
	{0, checks.CauseUnauthorized},             // resolved + opened (auth)
	{time.Minute, checks.CauseOK},             // resolved
	{time.Minute, checks.CauseOK},             //
	{0, checks.CauseServerClockSkew},          // a finding alone: nothing
	{5 * time.Hour, checks.CauseUnauthorized}, //
	{0, checks.CauseUnauthorized},             // opened
}

// replay feeds the script for subjects checks to replicas engines over
// kv; at each step every replica observes every subject's result at the
// same time, as replicas racing on shared state would.
func replay(t *testing.T, kv store.KV, replicas, subjects int) []Message {
	t.Helper()
	clock := newFakeClock(t0)
	var engines []*Incidents
	for i := range replicas {
		engines = append(engines, NewIncidents(kv, IncidentOptions{
			RemindEvery: 4 * time.Hour, Now: clock.Now, Owner: fmt.Sprintf("replica-%d", i),
		}))
	}
	ctx := context.Background()
	var (
		mu  sync.Mutex
		all []Message
	)
	for _, s := range replicaScript {
		clock.Advance(time.Minute + s.wait)
		var wg sync.WaitGroup
		for c := range subjects {
			r := checks.Result{
				Env: "prod", Check: fmt.Sprintf("check-%d", c), Credential: "key",
				Started: clock.Now(), Status: s.cause.Status(), Cause: s.cause,
			}
			for _, e := range engines {
				wg.Go(func() {
					msgs, err := e.Observe(ctx, r)
					if err != nil {
						t.Errorf("Observe: %v", err)
					}
					mu.Lock()
					all = append(all, msgs...)
					mu.Unlock()
				})
			}
		}
		wg.Wait()
	}
	return all
}

func TestReplicasProduceEachTransitionOnce(t *testing.T) {
	client, prefix := storetest.Redis(t)
	const subjects = 6

	want := replay(t, memstore.New(), 1, subjects)
	got := replay(t, redisstore.New(client, prefix), 3, subjects)

	ids := func(ms []Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		slices.Sort(out)
		return out
	}
	count := func(ms []Message) map[Event]int {
		n := make(map[Event]int)
		for _, m := range ms {
			n[m.Event]++
		}
		return n
	}
	wantCount := map[Event]int{
		EventOpened: 4 * subjects, EventCauseChanged: subjects, EventReminder: subjects, EventResolved: 3 * subjects,
	}
	if fmt.Sprint(count(want)) != fmt.Sprint(wantCount) {
		t.Fatalf("one replica produced %v, want %v", count(want), wantCount)
	}
	gotIDs := ids(got)
	for i := 1; i < len(gotIDs); i++ {
		if gotIDs[i] == gotIDs[i-1] {
			t.Errorf("message %s produced more than once", gotIDs[i])
		}
	}
	if !slices.Equal(gotIDs, ids(want)) {
		t.Fatalf("3 replicas produced %d messages %v,\nwant the %d of one replica %v", len(got), count(got), len(want), count(want))
	}
	t.Logf("3 replicas over one redis: %d transitions, each once: %v", len(got), count(got))
}
