package daemon_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

// A reload sizes the queues for the new check count: grown for 1,000
// checks, and shrunk again by a reload while those 1,000 probe.
func TestReloadResizesTheQueues(t *testing.T) {
	srv := api(t, nil, nil)
	path := filepath.Join(t.TempDir(), "config.yaml")
	names := func(n int) []string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprintf("c%d", i))
		}
		return s
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	more := make(chan struct{}, 1)
	writeConfig(t, path, srv.URL, names(3)...)
	r := start(t, daemon.Options{ConfigPath: path, WatchInterval: -1, OnResult: func(res checks.Result) {
		mu.Lock()
		seen[res.Check] = true
		mu.Unlock()
		select {
		case more <- struct{}{}:
		default:
		}
	}})
	guard := time.After(30 * time.Second)
	for _, n := range []int{3, 1000, 3} {
		writeConfig(t, path, srv.URL, names(n)...)
		if err := r.d.Reload("test"); err != nil {
			t.Fatal(err)
		}
		writer, shards := r.d.QueueCapacities()
		wantWriter, wantShard := daemon.QueueSizes(n)
		if writer != wantWriter || len(shards) == 0 || slices.ContainsFunc(shards, func(c int) bool { return c != wantShard }) {
			t.Errorf("at %d checks the result writer holds %d and the incident shards %v; want %d and %d each", n, writer, shards, wantWriter, wantShard)
		}
		// Every check of this configuration has probed before the next
		// reload: it resizes queues in use.
		for {
			mu.Lock()
			all := !slices.ContainsFunc(names(n), func(c string) bool { return !seen[c] })
			mu.Unlock()
			if all {
				break
			}
			select {
			case <-more:
			case <-guard:
				t.Fatalf("the %d checks never all probed", n)
			}
		}
	}
}
