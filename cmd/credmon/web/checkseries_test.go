package web

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/credmon/credmon/checks"
)

// Scrapes while results arrive and checks are forgotten: every scrape is
// consistent (run under -race), and the counts at the end are exact.
func TestCheckSeriesConcurrentScrape(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	const n, runs = 200, 5
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for run := range runs {
				for i := w; i < n; i += 4 {
					m.ObserveResult(checks.Result{Env: "prod", Check: fmt.Sprintf("c%03d", i), Status: checks.StatusOK, Cause: checks.CauseOK,
						HTTPStatus: 200, Started: fixtureNow.Add(time.Duration(run))})
				}
			}
		})
	}
	stop := make(chan struct{})
	scraped := make(chan int)
	go func() {
		k := 0
		for {
			select {
			case <-stop:
				scraped <- k
				return
			default:
			}
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
			k++
		}
	}()
	wg.Wait()
	close(stop)
	if k := <-scraped; k == 0 {
		t.Error("no scrape ran")
	}
	for name, want := range map[string]int{"credmon_check_up": n, "credmon_check_status": n, "credmon_check_results_total": n,
		"credmon_check_last_run_timestamp_seconds": n, "credmon_server_time_offset_seconds": n} {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s: %d series, want %d", name, got, want)
		}
	}
	if got := seriesValue(t, reg, "credmon_check_results_total", "env", "prod", "check", "c007", "cause", "ok"); got != runs {
		t.Errorf("results_total of c007 = %v, want %d", got, runs)
	}
	for i := range n / 2 {
		m.ForgetCheck("prod", fmt.Sprintf("c%03d", i))
	}
	if got := testutil.CollectAndCount(reg, "credmon_check_up"); got != n/2 {
		t.Errorf("after forgetting half: %d up series, want %d", got, n/2)
	}
}
