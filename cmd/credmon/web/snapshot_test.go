package web

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
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

// TestSnapshotWithADamagedHistory: one check's history in the bolt file
// no longer reads. The snapshot still shows every other check, the replica
// stays ready, and the page and the snapshot say which check's stored
// state was left out — where it said "store unavailable" for every check.
func TestSnapshotWithADamagedHistory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "credmon.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for _, name := range []string{"api", "billing"} {
		r := checks.Result{Env: "prod", Check: name, Started: now}
		r.SetCause(checks.CauseOK, "", "")
		if err := st.PutResult(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("history")).Put([]byte("prod/billing"), []byte{1, 0xff, 0xff})
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	st, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	s := BuildSnapshot(ctx, st, View{
		Instance: "replica-a",
		Checks: []Configured{
			{Env: "prod", Name: "api", Credential: "key", Schedule: "@every 1m"},
			{Env: "prod", Name: "billing", Credential: "key", Schedule: "@every 1m"},
		},
	})
	if !s.Ready {
		t.Errorf("not ready: %v; one damaged history should not make the replica unready", s.NotReady)
	}
	if len(s.Problems) != 1 || !strings.Contains(s.Problems[0], "prod/billing") {
		t.Fatalf("problems = %q, want one naming prod/billing", s.Problems)
	}
	for _, c := range s.Checks {
		if got := c.Last != nil; got != (c.Name == "api") {
			t.Errorf("%s: has a last result %v, want %v", c.Name, got, c.Name == "api")
		}
	}
	page := renderQuery(t, s, "")
	if !strings.Contains(page, "Some stored state does not read.") || !strings.Contains(page, "prod/billing") {
		t.Errorf("the page does not show the problem %q", s.Problems[0])
	}
}

// TestSnapshotWithDamagedStoredState: stored state other than results that
// does not read, planted in a real Redis: an incident record, a
// replica's heartbeat and a silence. The snapshot shows what reads beside
// each, and names each as a problem while the replica stays ready; it
// showed no incident and no other replica at all before, and said nothing
// of the silence.
func TestSnapshotWithDamagedStoredState(t *testing.T) {
	ctx := context.Background()
	client, prefix := storetest.Redis(t)
	st := redisstore.New(client, prefix)
	now := time.Now()
	in := notify.NewIncidents(st, notify.IncidentOptions{FailureThreshold: 1})
	for _, name := range []string{"api", "db"} {
		r := checks.Result{Env: "prod", Check: name, Started: now}
		r.SetCause(checks.CauseRevoked, "", "")
		if _, err := in.Observe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Set(ctx, prefix+"kv:incident:prod/db", `{"open":`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"replica-b", "replica-c"} {
		if err := st.Heartbeat(ctx, store.Instance{ID: id, Started: now}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.HSet(ctx, prefix+"instances:{replicas}:data", "replica-c", `{"id":7}`).Err(); err != nil {
		t.Fatal(err)
	}
	silence, err := notify.NewSilences(st, nil, nil).Add(ctx, notify.SilenceMatch{Env: "prod"}, time.Hour, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Set(ctx, prefix+"kv:silence:0badc0de", `{"end":"in an hour"}`, 0).Err(); err != nil {
		t.Fatal(err)
	}

	s := BuildSnapshot(ctx, st, View{Instance: "replica-a"})
	if !s.Ready {
		t.Errorf("not ready: %v; damaged stored state should not make the replica unready", s.NotReady)
	}
	if len(s.Incidents) != 1 || s.Incidents[0].Subject != "api" {
		t.Errorf("incidents = %+v; want api's, which reads", s.Incidents)
	}
	if len(s.Instances) != 1 || s.Instances[0].ID != "replica-b" {
		t.Errorf("instances = %+v; want replica-b's, which reads", s.Instances)
	}
	if len(s.Silences) != 1 || s.Silences[0].ID != silence.ID {
		t.Errorf("silences = %+v; want %s, which reads", s.Silences, silence.ID)
	}
	for _, want := range []string{"incident:prod/db", "replica-c", "silence:0badc0de"} {
		if !slices.ContainsFunc(s.Problems, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("problems = %q; none names %s", s.Problems, want)
		}
	}
}
