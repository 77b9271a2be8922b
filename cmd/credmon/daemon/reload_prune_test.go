package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// TestReloadForgetsRemovedCheckAndCredential: a reload that removes a
// check and a credential removes everything they left — metric series,
// deadlines, stored results — and closes the removed check's open
// incident with one message saying why. What stays configured keeps its
// state. The store is a real Redis, read directly.
func TestReloadForgetsRemovedCheckAndCredential(t *testing.T) {
	client, prefix := storetest.Redis(t)
	srv := api(t, nil, nil)
	t.Setenv("CREDMON_PRUNE_OTHER_KEY", "sk_test_FAKEprune-not-accepted-000")
	redisURL := storetest.RedisURL()
	path := filepath.Join(t.TempDir(), "config.yaml")
	write := func(withBeta bool) {
		t.Helper()
		var b strings.Builder
		fmt.Fprintf(&b, `store: {driver: redis, redis: {url: %q, key_prefix: %q}, fallback_path: %q}
scheduler: {schedule: "@every 1s"}
alerting: {failure_threshold: 1}
notify: {console: false}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}, rotation: {rotated_at: 2026-11-01, max_age: 90d}}
`, redisURL, prefix, filepath.Join(filepath.Dir(path), "credmon-fallback.db"))
		if withBeta {
			b.WriteString("      other: {type: api_key, secret: {env: CREDMON_PRUNE_OTHER_KEY}, rotation: {rotated_at: 2026-11-02, max_age: 90d}}\n")
		}
		fmt.Fprintf(&b, "    checks:\n      - {name: alpha, credential: key, url: %q}\n", srv.URL+"/alpha")
		if withBeta {
			fmt.Fprintf(&b, "      - {name: beta, credential: other, url: %q}\n", srv.URL+"/beta")
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(true)

	seen := make(chan string, 64)
	rec := &recorder{got: make(chan struct{}, 1)}
	r := start(t, daemon.Options{
		ConfigPath: path, WatchInterval: -1, Notifiers: []notify.Notifier{rec},
		OnResult: func(res checks.Result) {
			select {
			case seen <- res.Key():
			default: // every second brings another
			}
		},
	})
	guard := time.After(20 * time.Second)
	want := map[string]bool{"prod/alpha": true, "prod/beta": true, "prod/credential:other/rotation": true, "prod/credential:key/rotation": true}
	for len(want) > 0 {
		select {
		case k := <-seen:
			delete(want, k)
		case <-guard:
			t.Fatalf("results never recorded for %v", want)
		}
	}
	opened := waitFor(t, rec, guard, func(m notify.Message) bool { return m.Event == notify.EventOpened && m.Check == "beta" })

	_, metrics := get(t, "http://"+r.addr+"/metrics")
	for _, series := range []string{`check="beta"`, `credential="other"`, `check="credential:other/rotation"`} {
		if !strings.Contains(metrics, series) {
			t.Fatalf("before the reload /metrics has no %s series; the test would prove nothing", series)
		}
	}
	st := redisstore.New(client, prefix)
	ctx := context.Background()
	stored := func() []string {
		t.Helper()
		latest, err := st.LatestResults(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, res := range latest {
			keys = append(keys, res.Key())
		}
		return keys
	}
	// The writer batches: poll until both of beta's results are stored.
	for !slices.Contains(stored(), "prod/beta") || !slices.Contains(stored(), "prod/credential:other/rotation") {
		select {
		case <-guard:
			t.Fatalf("beta's results never reached the store: %v", stored())
		case <-time.After(10 * time.Millisecond):
		}
	}

	write(false)
	if err := r.d.Reload("test"); err != nil {
		t.Fatal(err)
	}

	resolved := waitFor(t, rec, guard, func(m notify.Message) bool { return m.Event == notify.EventResolved && m.Check == "beta" })
	if resolved.IncidentKey != opened.IncidentKey || !strings.Contains(resolved.Detail, "removed from the configuration") {
		t.Errorf("resolved = %q on %s; want the removal, on %s", resolved.Detail, resolved.IncidentKey, opened.IncidentKey)
	}
	for {
		keys := stored()
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.Contains(k, "beta") || strings.Contains(k, "other") }) {
			if !slices.Contains(keys, "prod/alpha") || !slices.Contains(keys, "prod/credential:key/rotation") {
				t.Errorf("the reload deleted what is still configured: stored %v", keys)
			}
			break
		}
		select {
		case <-guard:
			t.Fatalf("results of the removed check and credential are still stored: %v", keys)
		case <-time.After(10 * time.Millisecond):
		}
	}
	_, metrics = get(t, "http://"+r.addr+"/metrics")
	for _, series := range []string{`check="beta"`, `credential="other"`, `check="credential:other/rotation"`} {
		if strings.Contains(metrics, series) {
			t.Errorf("after the reload /metrics still has a %s series", series)
		}
	}
	if !strings.Contains(metrics, `check="alpha"`) || !strings.Contains(metrics, `credential="key"`) {
		t.Errorf("after the reload /metrics lost what is still configured")
	}
	_, status := get(t, "http://"+r.addr+"/api/v1/status")
	if strings.Contains(status, "beta") || strings.Contains(status, `"other"`) || strings.Contains(status, "credential:other") {
		t.Errorf("after the reload the status API still shows the removed check or credential:\n%s", status)
	}
	if !strings.Contains(status, `"credential": "key"`) && !strings.Contains(status, `"credential":"key"`) {
		t.Errorf("the status API lost the remaining credential's deadline:\n%s", status)
	}
}

// waitFor returns the first delivered message matching ok.
func waitFor(t *testing.T, rec *recorder, guard <-chan time.Time, ok func(notify.Message) bool) notify.Message {
	t.Helper()
	for {
		for _, m := range rec.delivered() {
			if ok(m) {
				return m
			}
		}
		select {
		case <-rec.got:
		case <-guard:
			t.Fatalf("message never delivered; got %d others", len(rec.delivered()))
		}
	}
}
