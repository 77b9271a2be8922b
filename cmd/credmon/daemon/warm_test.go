package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestOwnerKeepsIncidentsItDidNotWrite: a replica's local buffer held only
// the incident records it wrote itself, so of an incident another replica
// had decided it knew nothing, and as the owner in a Redis outage it
// decided it again (a duplicate opening). Records another replica left in
// Redis — here resolved, so that this replica's ok probes have nothing to
// write and only the copy can bring them — reach its buffer once it owns
// their subjects.
func TestOwnerKeepsIncidentsItDidNotWrite(t *testing.T) {
	client, prefix := storetest.Redis(t)
	redisURL := storetest.RedisURL()
	target := httptest.NewServer(&switchAPI{failing: map[string]bool{}})
	t.Cleanup(target.Close)
	names := []string{"w0", "w1", "w2"}

	// Another replica's history: each check failed, opened, recovered.
	ctx := context.Background()
	kv := redisstore.New(client, prefix)
	other := notify.NewIncidents(kv, notify.IncidentOptions{FailureThreshold: 1, SuccessThreshold: 1, Owner: "replica-gone"})
	at := time.Now().Add(-time.Minute)
	for _, n := range names {
		for i, cause := range []checks.Cause{checks.CauseUnauthorized, checks.CauseOK} {
			r := checks.Result{Kind: checks.SubjectCheck, Env: "prod", Check: n, Cause: cause, Started: at.Add(time.Duration(i) * time.Second)}
			r.Status = checks.Verdict(r.Cause, nil)
			if _, err := other.Observe(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string][]byte{}
	for _, n := range names {
		key := notify.StateKey(checks.CheckSubject("prod", n))
		v, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatalf("the other replica's record %s: %v", key, err)
		}
		want[key] = v
	}

	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "store: {driver: redis, redis: {url: %q, key_prefix: %q}, fallback_path: %q}\nscheduler: {schedule: \"@every 1s\"}\nnotify: {console: false}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n    checks:\n",
		redisURL, prefix, filepath.Join(dir, "fallback.db"))
	for _, n := range names {
		fmt.Fprintf(&b, "      - {name: %s, credential: key, url: %q}\n", n, target.URL+"/"+n)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := start(t, daemon.Options{ConfigPath: path, WatchInterval: -1, Instance: "replica-a"})

	guard := time.After(30 * time.Second) // a hang guard, not a wait
	for key, v := range want {
		for {
			got, ok := r.d.LocalValue(ctx, key)
			if ok && bytes.Equal(got, v) {
				break
			}
			select {
			case <-guard:
				t.Fatalf("the local buffer holds %q at %s, not the shared store's %q", got, key, v)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	// Its own probes changed nothing: the records are the other replica's.
	for key, v := range want {
		if got, err := kv.Get(ctx, key); err != nil || !bytes.Equal(got, v) {
			t.Errorf("%s in Redis = %q, %v; want it unchanged, or the test proves nothing", key, got, err)
		}
	}
}
