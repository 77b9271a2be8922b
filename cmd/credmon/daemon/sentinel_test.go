package daemon_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store/storetest"
)

// tokenAPI is switchAPI's checks plus an OAuth2 token endpoint: it counts
// grants, and /tok accepts only a token it issued that has not expired.
type tokenAPI struct {
	*switchAPI
	ttl    time.Duration
	grants atomic.Int64
	mu     sync.Mutex
	tokens map[string]time.Time
}

const (
	sentinelClientID     = "credmon-sentinel-test"
	sentinelClientSecret = "cs_FAKE_sentinel_client_secret"
)

func (a *tokenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/oauth/token":
		id, secret, ok := r.BasicAuth()
		if !ok || id != sentinelClientID || secret != sentinelClientSecret || r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		n := a.grants.Add(1)
		tok := fmt.Sprintf("at_FAKE_sentinel_%04d", n)
		a.mu.Lock()
		a.tokens[tok] = time.Now().Add(a.ttl)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(a.ttl.Seconds())})
	case "/tok":
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		exp, ok := a.tokens[tok]
		a.mu.Unlock()
		if !ok || time.Now().After(exp) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	default:
		a.switchAPI.ServeHTTP(w, r)
	}
}

// TestAlertsExactlyOnceThroughSentinelFailover: two replicas of credmon
// on a real Sentinel group (a master, a replica, three sentinels) by
// store.redis.addrs + master_name, writes waiting for the replica
// (wait_replicas: 1). In the middle of three incidents opening, one
// resolving and an OAuth2 token being refreshed every few seconds, the
// master is failed over — by SENTINEL FAILOVER, and separately by a
// SIGKILL (the old master comes back empty as the new one's replica).
// Every transition is delivered exactly once, no check sees a bad token,
// the fleet fetches at most one token more than its refreshes need,
// neither replica stops, and /readyz says only "ready" or that Redis is
// unreachable — and is ready again after the switch.
func TestAlertsExactlyOnceThroughSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two replicas through Sentinel failovers")
	}
	t.Run("planned", func(t *testing.T) {
		alertsThroughFailover(t, func(ctx context.Context, sg *storetest.Sentinel, master string) error { return sg.Failover(ctx) }, nil)
	})
	t.Run("master killed", func(t *testing.T) {
		alertsThroughFailover(t, func(ctx context.Context, sg *storetest.Sentinel, master string) error { return sg.Kill(master) },
			func(ctx context.Context, sg *storetest.Sentinel, old string) error { return sg.Restart(ctx, old) })
	})
}

type sentinelStep func(ctx context.Context, sg *storetest.Sentinel, master string) error

func alertsThroughFailover(t *testing.T, trigger, recover sentinelStep) {
	ctx := t.Context()
	sg := storetest.StartSentinel(t)
	const ttl, refreshBefore = 8 * time.Second, 4 * time.Second // a grant every ~4 s
	api := &tokenAPI{switchAPI: &switchAPI{failing: map[string]bool{}}, ttl: ttl, tokens: map[string]time.Time{}}
	target := httptest.NewServer(api)
	t.Cleanup(target.Close)

	addrs, _ := json.Marshal(sg.Sentinels)
	var b strings.Builder
	fmt.Fprintf(&b, "store: {driver: redis, redis: {addrs: %s, master_name: %q, key_prefix: %q, wait_replicas: 1}, fallback_path: \"${CREDMON_TEST_FALLBACK}\", encryption_key: {env: CREDMON_TEST_STORE_KEY}}\n",
		addrs, sg.MasterName, storetest.NewPrefix())
	b.WriteString("scheduler: {schedule: \"@every 1s\"}\nalerting: {failure_threshold: 2, success_threshold: 2}\nnotify: {console: false}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n")
	fmt.Fprintf(&b, "      client: {type: oauth2_client_credentials, token_url: %q, client_id: %s, client_secret: %q, auth_style: header, refresh_before: %s}\n",
		target.URL+"/oauth/token", sentinelClientID, sentinelClientSecret, refreshBefore)
	b.WriteString("    checks:\n")
	const nChecks = 6
	for i := range nChecks {
		fmt.Fprintf(&b, "      - {name: c%d, credential: key, url: %q}\n", i, target.URL+fmt.Sprintf("/c%d", i))
	}
	fmt.Fprintf(&b, "      - {name: tok, credential: client, url: %q}\n", target.URL+"/tok")
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDMON_TEST_STORE_KEY", base64.StdEncoding.EncodeToString([]byte("FAKE_sentinel_store_key_32_bytes")))

	got := newDelivered()
	ran := &probes{n: map[string]map[string]int{}}
	replicas := map[string]*running{}
	dir := t.TempDir()
	began := time.Now()
	for _, id := range []string{"replica-a", "replica-b"} {
		replicas[id] = got.startRecorded(t, ran, path, dir, id, daemon.Options{})
	}
	waitUntil := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		got.waitUntil(t, what, limit, cond)
	}
	// readiness polls every replica's /readyz and keeps what each said.
	var (
		rmu     sync.Mutex
		answers = map[string]int{} // "replica code" → count
		odd     []string           // answers that are neither ready nor Redis unreachable
	)
	ready := func() bool {
		all := true
		for id, r := range replicas {
			code, body := get(t, "http://"+r.addr+"/readyz")
			rmu.Lock()
			answers[fmt.Sprintf("%s %d", id, code)]++
			switch {
			case code == http.StatusOK && body == "ready\n":
			case code == http.StatusServiceUnavailable && strings.HasPrefix(body, "redis unreachable") && strings.Count(body, "\n") == 1:
				all = false
			default:
				all = false
				odd = append(odd, fmt.Sprintf("%s: %d %q", id, code, body))
			}
			rmu.Unlock()
		}
		return all
	}
	waitUntil("every replica ready", 30*time.Second, ready)
	waitUntil("c4 and c5 fail and are announced", 30*time.Second, func() bool {
		api.set(true, "/c4", "/c5")
		return got.has("c4 opened", "c5 opened")
	})

	// Let heartbeats cover both replicas (membership at the switch).
	waitUntil("every replica heard the others", 30*time.Second, heardEachOther(replicas))

	// The switch, in the middle of transitions.
	master, err := sg.Master(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api.set(true, "/c0", "/c1", "/c2")
	api.set(false, "/c4")
	switched := time.Now()
	if err := trigger(ctx, sg, master); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.WaitNewMaster(ctx, master); err != nil {
		t.Fatal(err)
	}
	if recover != nil {
		if err := recover(ctx, sg, master); err != nil {
			t.Fatal(err)
		}
	}
	during := []string{"c0 opened", "c1 opened", "c2 opened", "c4 resolved"}
	waitUntil("the transitions decided during the switch", 60*time.Second, func() bool { ready(); return got.has(during...) })
	waitUntil("every replica ready after the switch", 60*time.Second, ready)
	back := time.Since(switched)

	// After it: c0 recovers; then several more probes, in which a second
	// copy of anything would have had the time to go out.
	api.set(false, "/c0")
	waitUntil("c0 resolved after the switch", 30*time.Second, func() bool { return got.has("c0 resolved") })
	n := ran.total("c1")
	waitUntil("more probes", 30*time.Second, func() bool { return ran.total("c1") >= n+6 })
	elapsed := time.Since(began)

	counts := got.counts()
	want := map[string]bool{"c4 opened": true, "c5 opened": true, "c0 resolved": true}
	for _, k := range during {
		want[k] = true
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case !want[k]:
			t.Errorf("unexpected message %q delivered by %v", k, counts[k])
		case len(counts[k]) != 1:
			t.Errorf("%q delivered %d times, by %v; want exactly once", k, len(counts[k]), counts[k])
		}
	}
	for k := range want {
		if len(counts[k]) == 0 {
			t.Errorf("%q never delivered", k)
		}
	}
	// A refresh every ttl − refresh_before for the fleet, one at the
	// start, at most one more for the switch.
	period := ttl - refreshBefore
	limit := int64(elapsed/period) + 2 + 1
	if g := api.grants.Load(); g > limit {
		t.Errorf("%d token grants in %v; want at most %d (one per %v, plus one for the switch)", g, elapsed.Round(time.Second), limit, period)
	}
	for id, r := range replicas {
		select {
		case err := <-r.done:
			t.Errorf("%s stopped during the test: %v", id, err)
			r.done <- err // for the cleanup's receive
		default:
		}
	}
	rmu.Lock()
	defer rmu.Unlock()
	if len(odd) > 0 {
		t.Errorf("/readyz answers other than ready or Redis unreachable: %q", odd)
	}
	t.Logf("ready again %.1fs after the trigger; %d grants in %v; /readyz answers %v; messages %v",
		back.Seconds(), api.grants.Load(), elapsed.Round(time.Second), answers, counts)
}
