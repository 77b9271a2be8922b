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
	hb := time.Now()
	waitUntil("two heartbeats", 30*time.Second, func() bool { return time.Since(hb) > 11*time.Second })
	// What replica-a runs before the cut: its share.
	before := map[string]int{}
	for i := range nChecks {
		before[fmt.Sprintf("c%d", i)] = ran.byReplica("replica-a", fmt.Sprintf("c%d", i))
	}

	proxies["replica-a"].Cut()
	cut := time.Now()
	waitUntil("replica-a not ready, the others ready", 30*time.Second, func() bool {
		return readyz("replica-a") == http.StatusServiceUnavailable && readyz("replica-b") == http.StatusOK
	})
	// Past the takeover: the others run replica-a's checks now.
	waitUntil("the takeover", 30*time.Second, func() bool { return time.Since(cut) > 13*time.Second })

	api.set(true, paths...)
	waitUntil("every check announced", 30*time.Second, func() bool { return got.has(opened...) })
	// replica-a decided its share too, locally, and holds it; it comes
	// back within the hold.
	proxies["replica-a"].Restore()
	waitUntil("replica-a ready again", 30*time.Second, func() bool { return readyz("replica-a") == http.StatusOK })
	// Past the hold: a held message that were to go out would have.
	back := time.Now()
	waitUntil("past the outage hold", 40*time.Second, func() bool { return time.Since(back) > 25*time.Second })

	api.set(false, paths...)
	waitUntil("every check resolved", 30*time.Second, func() bool { return got.has(resolved...) })
	n := ran.total("c0")
	waitUntil("more probes", 30*time.Second, func() bool { return ran.total("c0") >= n+4 })

	share := 0
	for i := range nChecks {
		c := fmt.Sprintf("c%d", i)
		if before[c] > 0 {
			share++
		}
	}
	if share == 0 {
		t.Fatalf("replica-a ran none of the checks before the cut: the test proves nothing")
	}
	counts := got.counts()
	for _, k := range append(opened, resolved...) {
		if len(counts[k]) != 1 {
			t.Errorf("%q delivered %d times, by %v; want exactly once", k, len(counts[k]), counts[k])
		}
	}
	for k, v := range counts {
		if !strings.HasSuffix(k, " opened") && !strings.HasSuffix(k, " resolved") {
			t.Errorf("unexpected message %q delivered by %v", k, v)
		}
	}
	t.Logf("replica-a's share before the cut: %d of %d checks; messages %v", share, nChecks, counts)
}
