package notify

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// Three replicas observing the same expiring credential on one Redis: each
// warning band alerts once in all, and again once the credential changes.
func TestBandsAlertOnceAcrossReplicas(t *testing.T) {
	client, prefix := storetest.Redis(t)
	kv := redisstore.New(client, prefix)
	clock := newFakeClock(t0)
	var engines []*Incidents
	for i := range 3 {
		engines = append(engines, NewIncidents(kv, IncidentOptions{RemindEvery: 4 * time.Hour, Now: clock.Now, Owner: fmt.Sprintf("replica-%d", i)}))
	}
	steps := []string{"fp1/14d", "fp1/14d", "fp1/7d", "fp1/7d", "fp1/7d", "fp1/1d", "fp1/1d", "fp2/14d", "fp2/14d"}
	var (
		mu   sync.Mutex
		msgs []Message
	)
	for _, band := range steps {
		clock.Advance(time.Hour)
		r := checks.Result{Kind: checks.SubjectCredential, Env: "prod", Credential: "session", Concern: checks.ConcernExpiry, Started: clock.Now(),
			Status: checks.StatusWarn, Cause: checks.CauseTokenExpiring, Band: parseBand(band), Detail: "expires soon", Hint: "issue a new token"}
		var wg sync.WaitGroup
		for _, e := range engines {
			wg.Go(func() {
				got, err := e.Observe(context.Background(), r)
				if err != nil {
					t.Errorf("Observe: %v", err)
				}
				mu.Lock()
				msgs = append(msgs, got...)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	var bands []string
	for _, m := range msgs {
		bands = append(bands, string(m.Event)+":"+m.Band.String())
	}
	want := []string{"opened:fp1/14d", "band:fp1/7d", "band:fp1/1d", "band:fp2/14d"}
	if fmt.Sprint(bands) != fmt.Sprint(want) {
		t.Fatalf("messages across 3 replicas = %v, want %v", bands, want)
	}
}
