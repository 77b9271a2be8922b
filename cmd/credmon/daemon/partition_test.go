package daemon_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store/storetest"
)

// TestAlertsExactlyOnceThroughAPartitionOfOneReplica: three replicas on
// one real redis-server, each through a proxy of its own. replica-a's is
// cut: it alone loses Redis, and after two heartbeats the other two take
// its checks over and decide them through Redis — while replica-a goes on
// deciding its own share locally. Checks fail then; replica-a comes back
// within the outage hold. Every opening and every resolve is delivered
// once: replica-a's held messages for incidents the others announced are
// dropped, and its incident state gives way to theirs.
func TestAlertsExactlyOnceThroughAPartitionOfOneReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas through a partition")
	}
	srv := storetest.StartRedisServer(t)
	api := &switchAPI{failing: map[string]bool{}}
	target := httptest.NewServer(api)
	t.Cleanup(target.Close)

	const nChecks = 9
	var b strings.Builder
	b.WriteString("store: {driver: redis, redis: {url: \"${CREDMON_TEST_REDIS_URL}\"}, fallback_path: \"${CREDMON_TEST_FALLBACK}\"}\nscheduler: {schedule: \"@every 1s\"}\nalerting: {failure_threshold: 2, success_threshold: 2}\nnotify: {console: false}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n    checks:\n")
	var paths, opened, resolved []string
	for i := range nChecks {
		fmt.Fprintf(&b, "      - {name: c%d, credential: key, url: %q}\n", i, target.URL+fmt.Sprintf("/c%d", i))
		paths = append(paths, fmt.Sprintf("/c%d", i))
		opened = append(opened, fmt.Sprintf("c%d opened", i))
		resolved = append(resolved, fmt.Sprintf("c%d resolved", i))
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	got := newDelivered()
	ran := &probes{n: map[string]map[string]int{}}
	replicas := map[string]*running{}
	proxies := map[string]*storetest.TCPProxy{}
	dir := t.TempDir()
	for _, id := range []string{"replica-a", "replica-b", "replica-c"} {
		proxies[id] = storetest.StartTCPProxy(t, srv.Addr())
		t.Setenv("CREDMON_TEST_REDIS_URL", proxies[id].URL())
		replicas[id] = got.startRecorded(t, ran, path, dir, id, daemon.Options{})
	}
	waitUntil := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		got.waitUntil(t, what, limit, cond)
	}
	readyz := func(id string) int {
		code, _ := get(t, "http://"+replicas[id].addr+"/readyz")
		return code
	}
	waitUntil("every replica ready", 30*time.Second, func() bool {
		return readyz("replica-a") == http.StatusOK && readyz("replica-b") == http.StatusOK && readyz("replica-c") == http.StatusOK
	})
	waitUntil("every replica heard the others", 30*time.Second, heardEachOther(replicas))
	// replica-a's share: the checks it ran over a few ticks once the
	// heartbeats settled.
	counts := func(id string) map[string]int {
		m := map[string]int{}
		for _, p := range paths {
			m[p[1:]] = ran.byReplica(id, p[1:])
		}
		return m
	}
	settled, n0 := counts("replica-a"), ran.total("c0")
	waitUntil("a few ticks", 30*time.Second, func() bool { return ran.total("c0") >= n0+3 })
	var share []string
	for c, n := range counts("replica-a") {
		if n > settled[c] {
			share = append(share, c)
		}
	}
	if len(share) == 0 || len(share) == nChecks {
		t.Fatalf("replica-a ran %d of %d checks before the cut: the test proves nothing", len(share), nChecks)
	}
	others := func() map[string]int {
		b, c := counts("replica-b"), counts("replica-c")
		for k, v := range c {
			b[k] += v
		}
		return b
	}
	atCut := others()

	proxies["replica-a"].Cut()
	waitUntil("replica-a not ready, the others ready", 30*time.Second, func() bool {
		return readyz("replica-a") == http.StatusServiceUnavailable && readyz("replica-b") == http.StatusOK
	})
	// The takeover: the others run replica-a's checks now.
	waitUntil("the others run replica-a's checks", 30*time.Second, func() bool {
		now := others()
		for _, c := range share {
			if now[c] <= atCut[c] {
				return false
			}
		}
		return true
	})

	api.set(true, paths...)
	waitUntil("every check announced", 30*time.Second, func() bool { return got.has(opened...) })
	// replica-a decided its share too, locally, and holds it (its outbox,
	// the local one now, is not empty); it comes back within the hold.
	depth := func() float64 { return gauge(t, replicas["replica-a"].addr, "credmon_outbox_depth") }
	waitUntil("replica-a holding its share's openings", 30*time.Second, func() bool { return depth() > 0 })
	proxies["replica-a"].Restore()
	waitUntil("replica-a ready again", 30*time.Second, func() bool { return readyz("replica-a") == http.StatusOK })
	// The hold ends: the held messages are dropped (or, wrongly, moved into
	// Redis and delivered), and replica-a's outbox drains.
	waitUntil("replica-a's held messages settled", 40*time.Second, func() bool { return depth() == 0 })

	api.set(false, paths...)
	waitUntil("every check resolved", 30*time.Second, func() bool { return got.has(resolved...) })
	n := ran.total("c0")
	waitUntil("more probes", 30*time.Second, func() bool { return ran.total("c0") >= n+4 })

	delivered := got.counts()
	for _, k := range append(opened, resolved...) {
		if len(delivered[k]) != 1 {
			t.Errorf("%q delivered %d times, by %v; want exactly once", k, len(delivered[k]), delivered[k])
		}
	}
	for k, v := range delivered {
		if !strings.HasSuffix(k, " opened") && !strings.HasSuffix(k, " resolved") {
			t.Errorf("unexpected message %q delivered by %v", k, v)
		}
	}
	t.Logf("replica-a's share: %v of %d checks; messages %v", share, nChecks, delivered)
}

// gauge reads an unlabelled gauge from a replica's /metrics.
func gauge(t *testing.T, addr, name string) float64 {
	t.Helper()
	_, body := get(t, "http://"+addr+"/metrics")
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics of %s: %v", addr, err)
	}
	f := fams[name]
	if f == nil || len(f.GetMetric()) != 1 {
		t.Fatalf("/metrics of %s: no single %s", addr, name)
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}
