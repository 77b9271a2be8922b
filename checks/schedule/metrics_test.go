package schedule

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A job that panics with a secret in the panic value: the scheduler logs
// that it panicked, and its stack, never the value; its metrics count the
// panic under the job's labels, the in-flight gauge returns to zero and
// Forget drops the job's series.
func TestMetricsCountAPanicAndNeverLogItsValue(t *testing.T) {
	const secret = "sk_live_FAKEpanic000000000zz09"
	var logs syncBuffer
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	rec := newRecorder()
	labels := Labels{Env: "prod", Check: "leaky"}
	s := New(Options{Observer: rec, Metrics: m, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err := s.Set([]Job{{ID: "prod/leaky", Labels: labels, Spec: "@every 1s", Jitter: -1, Run: func(context.Context, time.Time) {
		panic("Authorization: Bearer " + secret)
	}}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	rec.next(t, "finished", "prod/leaky")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	out := logs.String()
	for _, leak := range []string{secret, "FAKEpanic", "Authorization: Bearer"} {
		if strings.Contains(out, leak) {
			t.Errorf("log holds the panic value (%q):\n%s", leak, out)
		}
	}
	for _, want := range []string{"job panicked", "job=prod/leaky", "string value (not logged)", "stack=", "TestMetricsCountAPanicAndNeverLogItsValue"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if got := jobCount(t, reg, "credmon_scheduler_panics_total", labels); got < 1 {
		t.Errorf("credmon_scheduler_panics_total{env=prod,check=leaky} = %v, want at least 1", got)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("credmon_scheduler_in_flight = %v after Stop, want 0", got)
	}
	if n := testutil.CollectAndCount(m.lag); n != 1 {
		t.Errorf("lag histogram: %d series, want 1", n)
	}
	m.Forget(labels)
	if n, err := testutil.GatherAndCount(reg, "credmon_scheduler_panics_total"); err != nil || n != 0 {
		t.Errorf("after Forget: %d panic series, %v; want none", n, err)
	}
}

// A tick that comes while the previous run still goes is counted as a
// skip under the job's labels.
func TestMetricsCountASkip(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	rec := newRecorder()
	release := make(chan struct{})
	start(t, Options{Observer: rec, Metrics: m}, Job{ID: "prod/slow", Labels: Labels{Env: "prod", Check: "slow"}, Spec: "@every 10ms", Jitter: -1,
		Run: func(ctx context.Context, _ time.Time) {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}})
	rec.next(t, "skipped", "prod/slow")
	close(release)
	if got := jobCount(t, reg, "credmon_scheduler_skipped_runs_total", Labels{Env: "prod", Check: "slow"}); got < 1 {
		t.Errorf("credmon_scheduler_skipped_runs_total{env=prod,check=slow} = %v, want at least 1", got)
	}
}

func TestMetricsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	a, b := Labels{Env: "prod", Check: "a"}, Labels{Env: "prod", Check: "b"}
	m.started(3 * time.Millisecond)
	m.started(-time.Millisecond)
	m.finished()
	m.skip(a)
	m.skip(a)
	m.panicked(b)

	want := `
# HELP credmon_scheduler_in_flight Check runs in progress.
# TYPE credmon_scheduler_in_flight gauge
credmon_scheduler_in_flight 1
# HELP credmon_scheduler_skipped_runs_total Ticks not run because the check's previous run was still going.
# TYPE credmon_scheduler_skipped_runs_total counter
credmon_scheduler_skipped_runs_total{check="a",env="prod"} 2
# HELP credmon_scheduler_panics_total Check runs that panicked.
# TYPE credmon_scheduler_panics_total counter
credmon_scheduler_panics_total{check="b",env="prod"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"credmon_scheduler_in_flight", "credmon_scheduler_skipped_runs_total", "credmon_scheduler_panics_total"); err != nil {
		t.Error(err)
	}
	// The early start is clamped into the lowest bucket, not dropped.
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "credmon_scheduler_lag_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 2 || h.GetBucket()[0].GetCumulativeCount() != 1 {
				t.Errorf("lag histogram: count %d, first bucket %d", h.GetSampleCount(), h.GetBucket()[0].GetCumulativeCount())
			}
		}
	}
	var nilMetrics *Metrics // a scheduler without metrics records nothing, and does not crash
	nilMetrics.started(time.Second)
	nilMetrics.skip(a)
	nilMetrics.Forget(a)
}

// jobCount is the value of the per-job series name{env,check} of l in
// what reg gathers, or 0 when it has none.
func jobCount(t *testing.T, reg *prometheus.Registry, name string, l Labels) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			if got["env"] == l.Env && got["check"] == l.Check {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
