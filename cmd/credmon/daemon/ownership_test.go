package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store/storetest"
)

// runLog records which replica ran which tick of which check.
type runLog struct {
	mu   sync.Mutex
	runs map[string]map[int64][]string // check → tick (unix s) → replicas that ran it
	got  chan struct{}
}

func (l *runLog) add(r checks.Result) {
	if r.Kind != checks.SubjectCheck {
		return
	}
	l.mu.Lock()
	if l.runs[r.Check] == nil {
		l.runs[r.Check] = map[int64][]string{}
	}
	l.runs[r.Check][r.Tick.Unix()] = append(l.runs[r.Check][r.Tick.Unix()], r.RunBy)
	l.mu.Unlock()
	select {
	case l.got <- struct{}{}:
	default:
	}
}

// steady reports whether, for the ticks [from, to], every check ran each
// tick exactly once and always on the same replica, among alive; it says
// what is missing otherwise, and which replicas own checks.
func (l *runLog) steady(checkNames []string, from, to int64, alive map[string]bool) (bool, string, map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	owners := map[string]int{}
	for _, c := range checkNames {
		owner := ""
		for tick := from; tick <= to; tick++ {
			by := l.runs[c][tick]
			if len(by) != 1 {
				return false, fmt.Sprintf("%s tick %d ran %d times %v", c, tick, len(by), by), nil
			}
			if !alive[by[0]] || owner != "" && by[0] != owner {
				return false, fmt.Sprintf("%s tick %d ran on %s (owner so far %q)", c, tick, by[0], owner), nil
			}
			owner = by[0]
		}
		owners[owner]++
	}
	return true, "", owners
}

// TestChecksAreSharedOutAmongReplicas: three replicas over one real Redis
// settle on one owner per check — each tick of each check runs exactly
// once, on the same replica, and every replica owns a share — and when a
// replica stops, the other two take its checks over.
func TestChecksAreSharedOutAmongReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three replicas for tens of seconds")
	}
	_, prefix := storetest.Redis(t)
	redisURL := storetest.RedisURL()
	srv := api(t, nil, nil)
	var names []string
	var b strings.Builder
	fmt.Fprintf(&b, "store: {driver: redis, redis: {url: %q, key_prefix: %q}, fallback_path: \"${CREDMON_TEST_FALLBACK}\"}\nscheduler: {schedule: \"@every 1s\"}\nnotify: {console: false}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n    checks:\n", redisURL, prefix)
	for i := range 24 {
		name := fmt.Sprintf("c%02d", i)
		names = append(names, name)
		fmt.Fprintf(&b, "      - {name: %s, credential: key, url: %q}\n", name, srv.URL+"/"+name)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	log := &runLog{runs: map[string]map[int64][]string{}, got: make(chan struct{}, 1)}
	replicas := map[string]*running{}
	dir := t.TempDir()
	for _, id := range []string{"replica-a", "replica-b", "replica-c"} {
		// One buffer file per replica: each is locked by its own.
		t.Setenv("CREDMON_TEST_FALLBACK", filepath.Join(dir, id+".db"))
		replicas[id] = start(t, daemon.Options{ConfigPath: path, WatchInterval: -1, Instance: id, OnResult: log.add})
	}
	alive := map[string]bool{"replica-a": true, "replica-b": true, "replica-c": true}

	// waitSteady polls, with a hang guard, until the last four complete
	// ticks were run once each by one alive owner per check.
	waitSteady := func(what string) map[string]int {
		t.Helper()
		guard := time.After(60 * time.Second)
		last := ""
		for {
			select {
			case <-log.got:
			case <-guard:
				t.Fatalf("%s: replicas never settled on one owner per check: %s", what, last)
			}
			to := time.Now().Add(-1500 * time.Millisecond).Unix() // a complete tick
			ok, why, owners := log.steady(names, to-3, to, alive)
			if ok {
				return owners
			}
			last = why
		}
	}

	owners := waitSteady("three replicas")
	if len(owners) != 3 {
		t.Errorf("owners of the 24 checks: %v; want all three replicas to own some", owners)
	}
	t.Logf("three replicas: checks owned %v", owners)

	// replica-b stops (its heartbeats end): a and c take its checks over.
	stopped := replicas["replica-b"]
	stopped.cancel()
	<-stopped.done
	stopped.done <- nil // for the cleanup's receive
	delete(alive, "replica-b")
	owners = waitSteady("after replica-b stopped")
	if len(owners) != 2 || owners["replica-b"] != 0 {
		t.Errorf("owners after replica-b stopped: %v; want a and c only", owners)
	}
	t.Logf("two replicas: checks owned %v", owners)
}
