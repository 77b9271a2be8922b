package schedule

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the scheduler's series, emitted by the scheduler itself. A
// nil *Metrics records nothing. Per-job series carry the job's Labels.
type Metrics struct {
	lag      prometheus.Histogram
	skipped  *prometheus.CounterVec
	panics   *prometheus.CounterVec
	inFlight prometheus.Gauge
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
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_scheduler_skipped_runs_total",
			Help: "Ticks not run because the check's previous run was still going.",
		}, check),
		panics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_scheduler_panics_total",
			Help: "Check runs that panicked.",
		}, check),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_scheduler_in_flight",
			Help: "Check runs in progress.",
		}),
	}
	reg.MustRegister(m.lag, m.skipped, m.panics, m.inFlight)
	return m
}

// Labels name a job in the per-job series: its environment and check.
type Labels struct{ Env, Check string }

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
		m.skipped.WithLabelValues(l.Env, l.Check).Inc()
	}
}

func (m *Metrics) panicked(l Labels) {
	if m != nil {
		m.panics.WithLabelValues(l.Env, l.Check).Inc()
	}
}

// Forget deletes the per-job series of a job that left the configuration.
func (m *Metrics) Forget(l Labels) {
	if m == nil {
		return
	}
	pl := prometheus.Labels{"env": l.Env, "check": l.Check}
	m.skipped.DeletePartialMatch(pl)
	m.panics.DeletePartialMatch(pl)
}
