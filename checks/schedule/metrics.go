package schedule

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the scheduler's series, emitted by the scheduler itself. A
// nil *Metrics records nothing. Per-job series carry the job's Labels.
type Metrics struct {
	lag      prometheus.Histogram
	inFlight prometheus.Gauge
	perJob   *jobSeries
}

// lagBuckets span 1 ms to 10 s.
var lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics creates the scheduler's series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	check := []string{"env", "check"}
	m := &Metrics{
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "credmon_scheduler_lag_seconds",
			Help:    "Delay between a run's scheduled tick and its start.",
			Buckets: lagBuckets,
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_scheduler_in_flight",
			Help: "Check runs in progress.",
		}),
		perJob: &jobSeries{
			skipped: prometheus.NewDesc("credmon_scheduler_skipped_runs_total",
				"Ticks not run because the check's previous run was still going.", check, nil),
			panics: prometheus.NewDesc("credmon_scheduler_panics_total",
				"Check runs that panicked.", check, nil),
			jobs: map[Labels]*jobCounts{},
		},
	}
	reg.MustRegister(m.lag, m.inFlight, m.perJob)
	return m
}

// Labels name a job in the per-job series: its environment and check.
type Labels struct{ Env, Check string }

// jobSeries holds the per-job counters as plain numbers and makes series
// of them only when scraped. They count trouble, and trouble tends to
// come to every check at once (an API that slows down makes all of its
// checks overrun): as *CounterVec children they cost ≈ 500 bytes a check
// that ever skipped — 5 MB at 10,000 — where a count here costs one
// small map entry.
type jobSeries struct {
	skipped, panics *prometheus.Desc

	mu   sync.Mutex
	jobs map[Labels]*jobCounts
}

// jobCounts are one job's counters; a series is shown once its count is
// not zero, as a *Vec child appears at its first increment.
type jobCounts struct{ skipped, panics uint64 }

func (j *jobSeries) add(l Labels, f func(*jobCounts)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.jobs[l]
	if c == nil {
		c = &jobCounts{}
		j.jobs[l] = c
	}
	f(c)
}

func (j *jobSeries) Describe(ch chan<- *prometheus.Desc) {
	ch <- j.skipped
	ch <- j.panics
}

func (j *jobSeries) Collect(ch chan<- prometheus.Metric) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for l, c := range j.jobs {
		for _, s := range []struct {
			d *prometheus.Desc
			n uint64
		}{{j.skipped, c.skipped}, {j.panics, c.panics}} {
			if s.n > 0 {
				ch <- prometheus.MustNewConstMetric(s.d, prometheus.CounterValue, float64(s.n), l.Env, l.Check)
			}
		}
	}
}

func (m *Metrics) started(lag time.Duration) {
	if m == nil {
		return
	}
	// A run may start a hair before its nominal tick (clock granularity,
	// negative jitter); clamp so the histogram's lowest bucket holds it.
	m.lag.Observe(max(lag, 0).Seconds())
	m.inFlight.Inc()
}

func (m *Metrics) finished() {
	if m != nil {
		m.inFlight.Dec()
	}
}

func (m *Metrics) skip(l Labels) {
	if m != nil {
		m.perJob.add(l, func(c *jobCounts) { c.skipped++ })
	}
}

func (m *Metrics) panicked(l Labels) {
	if m != nil {
		m.perJob.add(l, func(c *jobCounts) { c.panics++ })
	}
}

// Forget deletes the per-job series of a job that left the configuration.
func (m *Metrics) Forget(l Labels) {
	if m == nil {
		return
	}
	m.perJob.mu.Lock()
	defer m.perJob.mu.Unlock()
	delete(m.perJob.jobs, l)
}
