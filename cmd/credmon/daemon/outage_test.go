package daemon_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store/storetest"
)

// switchAPI answers 200 to the test key, except on paths switched to
// failing, where it answers 401 with a challenge.
type switchAPI struct {
	mu      sync.Mutex
	failing map[string]bool
}

func (a *switchAPI) set(fail bool, paths ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range paths {
		a.failing[p] = fail
	}
}

func (a *switchAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	fail := a.failing[r.URL.Path]
	a.mu.Unlock()
	if fail || r.Header.Get("Authorization") != "Bearer "+fakeKey {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	_, _ = w.Write([]byte(`{"ok":true}`))
}

// delivered records every message any replica delivered, by incident and
// event, and when.
type delivered struct {
	mu   sync.Mutex
	by   map[string][]string // "check event" → replicas that delivered it
	at   map[string]time.Time
	note chan struct{}
}

func newDelivered() *delivered {
	return &delivered{by: map[string][]string{}, at: map[string]time.Time{}, note: make(chan struct{}, 1)}
}

// notifier is replica's own notifier, recording into d.
func (d *delivered) notifier(replica string) notify.Notifier { return deliveryRecorder{d, replica} }

type deliveryRecorder struct {
	d       *delivered
	replica string
}

func (r deliveryRecorder) Name() string { return "recorder" }

func (r deliveryRecorder) Notify(_ context.Context, m notify.Message) (bool, error) {
	k := m.Check + " " + string(m.Event)
	r.d.mu.Lock()
	r.d.by[k] = append(r.d.by[k], r.replica)
	if _, ok := r.d.at[k]; !ok {
		r.d.at[k] = time.Now()
	}
	r.d.mu.Unlock()
	select {
	case r.d.note <- struct{}{}:
	default:
	}
	return false, nil
}

// startRecorded starts replica id of a fleet sharing the config at path:
// its own outage buffer in dir, its deliveries into d, its results into
// ran. opts adds what the test needs (an outage grace).
func (d *delivered) startRecorded(t *testing.T, ran *probes, path, dir, id string, opts daemon.Options) *running {
	t.Helper()
	t.Setenv("CREDMON_TEST_FALLBACK", filepath.Join(dir, id+".db"))
	opts.ConfigPath, opts.WatchInterval, opts.Instance = path, -1, id
	opts.Notifiers, opts.OnResult = []notify.Notifier{d.notifier(id)}, ran.add
	return start(t, opts)
}

// heardEachOther holds once every replica takes all of them to be alive
// and keeps them all in its local buffer: the membership their
// heartbeats settle on, which an outage or a failover then starts from.
func heardEachOther(replicas map[string]*running) func() bool {
	ids := slices.Sorted(maps.Keys(replicas))
	return func() bool {
		for _, r := range replicas {
			live, kept := r.d.Membership(context.Background())
			if !slices.Equal(live, ids) || !slices.Equal(kept, ids) {
				return false
			}
		}
		return true
	}
}

// waitUntil polls cond on every delivery and every 100 ms until it holds,
// failing the test after limit (a hang guard) with what was delivered.
func (d *delivered) waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	guard := time.After(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-d.note:
		case <-tick.C:
		case <-guard:
			t.Fatalf("%s: not within %v; delivered so far: %v", what, limit, d.counts())
		}
	}
}

// has reports whether every key has been delivered at least once.
func (d *delivered) has(keys ...string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		if len(d.by[k]) == 0 {
			return false
		}
	}
	return true
}

// counts is every delivered key with the replicas that delivered it.
func (d *delivered) counts() map[string][]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string][]string, len(d.by))
	for k, v := range d.by {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// probes counts, per replica, the results it recorded of each check.
type probes struct {
	mu sync.Mutex
	n  map[string]map[string]int // replica → check → results
}

func (p *probes) add(r checks.Result) {
	if r.Kind != checks.SubjectCheck {
		return
	}
	p.mu.Lock()
	if p.n[r.RunBy] == nil {
		p.n[r.RunBy] = map[string]int{}
	}
	p.n[r.RunBy][r.Check]++
	p.mu.Unlock()
}

// byReplica is the results of check that replica recorded.
func (p *probes) byReplica(replica, check string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[replica][check]
}

// total is the results of check over every replica.
func (p *probes) total(check string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.n {
		n += m[check]
	}
	return n
}

// TestAlertsExactlyOnceThroughALongRedisOutage: three replicas over a real
// redis-server that is taken away for longer than the probing grace, so
// every replica probes every check. Five checks fail during the outage and
// two that failed before it recover. Each opening and each resolve is
// delivered exactly once across the replicas — during the outage, by the
// replica that owns the check — and nothing is delivered again when
// Redis comes back, empty (killed: no persistence) or with its data
// (frozen, as across a partition).
func TestAlertsExactlyOnceThroughALongRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas through a Redis outage")
	}
	t.Run("back empty", func(t *testing.T) { alertsThroughOutage(t, true, false) })
	t.Run("back with its data", func(t *testing.T) { alertsThroughOutage(t, false, false) })
	// A replica restarted during the outage hears no heartbeat: it knows
	// who was alive from the membership it kept in its local buffer, and
	// does not decide every incident as if it were alone.
	t.Run("a replica restarted during it", func(t *testing.T) { alertsThroughOutage(t, true, true) })
}

func alertsThroughOutage(t *testing.T, empty, restart bool) {
	srv := storetest.StartRedisServer(t)
	api := &switchAPI{failing: map[string]bool{}}
	target := httptest.NewServer(api)
	t.Cleanup(target.Close)

	const nChecks = 9
	var b strings.Builder
	fmt.Fprintf(&b, "store: {driver: redis, redis: {url: %q}, fallback_path: \"${CREDMON_TEST_FALLBACK}\"}\nscheduler: {schedule: \"@every 1s\"}\nalerting: {failure_threshold: 2, success_threshold: 2}\nnotify: {console: false}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n    checks:\n", srv.URL())
	for i := range nChecks {
		fmt.Fprintf(&b, "      - {name: c%d, credential: key, url: %q}\n", i, target.URL+fmt.Sprintf("/c%d", i))
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	got := newDelivered()
	ran := &probes{n: map[string]map[string]int{}}
	const grace = 2 * time.Second
	replicas := map[string]*running{}
	dir := t.TempDir()
	startReplica := func(id string) {
		replicas[id] = got.startRecorded(t, ran, path, dir, id, daemon.Options{OutageGrace: grace})
	}
	for _, id := range []string{"replica-a", "replica-b", "replica-c"} {
		startReplica(id)
	}
	waitUntil := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		got.waitUntil(t, what, limit, cond)
	}
	ready := func(want int) func() bool {
		return func() bool {
			for _, r := range replicas {
				if code, _ := get(t, "http://"+r.addr+"/readyz"); code != want {
					return false
				}
			}
			return true
		}
	}
	waitUntil("every replica ready", 30*time.Second, ready(http.StatusOK))

	// c7 and c8 fail before the outage and are announced.
	api.set(true, "/c7", "/c8")
	waitUntil("c7 and c8 opened before the outage", 30*time.Second, func() bool { return got.has("c7 opened", "c8 opened") })
	// Let heartbeats cover every replica (membership at the outage).
	waitUntil("every replica heard the others", 30*time.Second, heardEachOther(replicas))

	if empty {
		srv.Kill()
	} else if err := srv.Freeze(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	waitUntil("every replica not ready (Redis gone)", 30*time.Second, ready(http.StatusServiceUnavailable))
	if restart {
		old := replicas["replica-a"]
		old.cancel()
		if err := <-old.done; err != nil {
			t.Fatalf("replica-a stopping: %v", err)
		}
		old.done <- nil // for the cleanup's receive
		startReplica("replica-a")
		waitUntil("the restarted replica-a not ready (Redis gone)", 30*time.Second, ready(http.StatusServiceUnavailable))
	}
	// Past the grace every replica probes every check.
	waitUntil("past the probing grace", 30*time.Second, func() bool { return time.Since(down) > grace+2*time.Second })

	failed := time.Now()
	api.set(true, "/c0", "/c1", "/c2", "/c3", "/c4")
	api.set(false, "/c7", "/c8")
	opened := []string{"c0 opened", "c1 opened", "c2 opened", "c3 opened", "c4 opened", "c7 resolved", "c8 resolved"}
	// failure_threshold × interval + 30 s.
	waitUntil("the outage's transitions delivered during it", 2*time.Second+30*time.Second, func() bool { return got.has(opened...) })
	delay := time.Since(failed)
	// Every replica goes on probing each check several times more: any of
	// them that would announce a transition of its own has had the time.
	n1 := ran.total("c0")
	waitUntil("more probes during the outage", 30*time.Second, func() bool { return ran.total("c0") >= n1+3*4 })
	// A failure late in the outage, decided past the partition hold's
	// start (two heartbeats in): held, and still delivered within the
	// bound while Redis is away.
	late := time.Duration(0)
	if empty && !restart {
		waitUntil("late in the outage", 30*time.Second, func() bool { return time.Since(down) > 12*time.Second })
		lateFail := time.Now()
		api.set(true, "/c5")
		waitUntil("a late opening during the outage", 2*time.Second+30*time.Second, func() bool { return got.has("c5 opened") })
		late = time.Since(lateFail)
		opened = append(opened, "c5 opened")
	}

	if empty {
		if err := srv.Restart(t.Context()); err != nil {
			t.Fatal(err)
		}
	} else if err := srv.Thaw(); err != nil {
		t.Fatal(err)
	}
	waitUntil("every replica ready again", 60*time.Second, ready(http.StatusOK))
	// After the return, each check is probed several more times, and the
	// five recover: their resolves go out once.
	n2 := ran.total("c0")
	waitUntil("probes after the return", 30*time.Second, func() bool { return ran.total("c0") >= n2+4 })
	api.set(false, "/c0", "/c1", "/c2", "/c3", "/c4", "/c5")
	resolved := []string{"c0 resolved", "c1 resolved", "c2 resolved", "c3 resolved", "c4 resolved"}
	if late > 0 {
		resolved = append(resolved, "c5 resolved")
	}
	waitUntil("the recoveries after the return", 60*time.Second, func() bool { return got.has(resolved...) })
	n3 := ran.total("c0")
	waitUntil("probes after the recoveries", 30*time.Second, func() bool { return ran.total("c0") >= n3+4 })

	counts := got.counts()
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := map[string]bool{"c7 opened": true, "c8 opened": true}
	for _, k := range append(opened, resolved...) {
		want[k] = true
	}
	for _, k := range keys {
		if !want[k] {
			t.Errorf("unexpected message %q delivered by %v", k, counts[k])
		} else if len(counts[k]) != 1 {
			t.Errorf("%q delivered %d times, by %v; want exactly once", k, len(counts[k]), counts[k])
		}
	}
	for k := range want {
		if len(counts[k]) == 0 {
			t.Errorf("%q never delivered", k)
		}
	}
	t.Logf("outage transitions delivered %.1fs after the failure, a late one %.1fs (bound 32s); messages: %v", delay.Seconds(), late.Seconds(), counts)
}
