package web

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// TestBuildSnapshotReadsTheStore: what two replicas wrote to one store is
// what either one's snapshot shows — the latest result whoever ran it, and
// a history made of both replicas' runs — while a removed check's results
// stay hidden and this replica is listed first.
func TestBuildSnapshotReadsTheStore(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	run := func(check string, i int, by string, status checks.Status) checks.Result {
		r := checks.Result{Env: "prod", Check: check, Started: t0.Add(time.Duration(i) * time.Minute), RunBy: by}
		r.SetCause(checks.CauseOK, "", "")
		if status == checks.StatusFail {
			r.SetCause(checks.CauseUnauthorized, "401", "")
		}
		return r
	}
	for i, by := range []string{"replica-a", "replica-b", "replica-a", "replica-b"} {
		status := checks.StatusOK
		if i == 2 {
			status = checks.StatusFail
		}
		if err := st.PutResult(ctx, run("api", i, by, status)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutResult(ctx, run("removed", 0, "replica-a", checks.StatusFail)); err != nil {
		t.Fatal(err)
	}
	if err := st.Heartbeat(ctx, store.Instance{ID: "replica-b", Started: t0}, time.Minute); err != nil {
		t.Fatal(err)
	}
	configured := map[string]bool{"prod/api": true}
	s := BuildSnapshot(ctx, st, View{
		Instance: "replica-a",
		Checks:   []Configured{{Env: "prod", Name: "api", Credential: "key", Schedule: "@every 1m"}},
		Knows:    func(sub checks.Subject) bool { return configured[sub.Key()] },
		Self:     &Instance{ID: "replica-a", Started: t0},
	})
	if len(s.Checks) != 1 {
		t.Fatalf("checks = %+v; want only prod/api (the removed check hidden)", s.Checks)
	}
	c := s.Checks[0]
	if c.Last == nil || c.LastRunBy != "replica-b" || !c.Last.Started.Equal(t0.Add(3*time.Minute)) {
		t.Errorf("last = %+v by %q; want replica-b's run at +3m", c.Last, c.LastRunBy)
	}
	want := []checks.Status{checks.StatusOK, checks.StatusFail, checks.StatusOK, checks.StatusOK}
	if !slices.Equal(c.Recent, want) {
		t.Errorf("recent = %v, want both replicas' runs newest first %v", c.Recent, want)
	}
	if c.OKRatio != 0.75 {
		t.Errorf("ok ratio = %v, want 0.75", c.OKRatio)
	}
	if len(s.Instances) != 2 || s.Instances[0].ID != "replica-a" || s.Instances[1].ID != "replica-b" {
		t.Errorf("instances = %+v; want replica-a (self) then replica-b", s.Instances)
	}
	if !s.Ready {
		t.Errorf("not ready: %v", s.NotReady)
	}
}
