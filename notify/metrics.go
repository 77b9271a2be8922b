package notify

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the delivery series, emitted by the dispatcher itself, and
// the silences' series. A nil *Metrics records nothing.
type Metrics struct {
	notifications  *prometheus.CounterVec
	outboxDepth    prometheus.Gauge
	outboxSilenced prometheus.Gauge
	silences       *silenceCollector
}

// NewMetrics creates the delivery series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_notifications_total",
			Help: "Notification deliveries by notifier and outcome (sent, failed_retrying, failed_permanent).",
		}, []string{"notifier", "outcome"}),
		outboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_outbox_depth",
			Help: "Notifications waiting for delivery.",
		}),
		outboxSilenced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_outbox_silenced",
			Help: "Notifications this replica holds in the outbox for a silence or maintenance window (sum over replicas).",
		}),
		silences: &silenceCollector{desc: prometheus.NewDesc("credmon_silences_active",
			"Silences holding notifications now, by source: runtime (credmon silence add) or maintenance (a configured window).",
			[]string{"source"}, nil)},
	}
	reg.MustRegister(m.notifications, m.outboxDepth, m.outboxSilenced, m.silences)
	return m
}

// ObserveSilences makes credmon_silences_active count s's active silences
// when scraped. Until then the series is absent.
func (m *Metrics) ObserveSilences(s *Silences) {
	if m != nil {
		m.silences.src.Store(s)
	}
}

// delivered counts one delivery attempt's outcome.
func (m *Metrics) delivered(notifier string, err error, retry bool) {
	if m == nil {
		return
	}
	outcome := "sent"
	switch {
	case err != nil && retry:
		outcome = "failed_retrying"
	case err != nil:
		outcome = "failed_permanent"
	}
	m.notifications.WithLabelValues(notifier, outcome).Inc()
}

func (m *Metrics) depth(n int) {
	if m != nil {
		m.outboxDepth.Set(float64(n))
	}
}

func (m *Metrics) silenced(n int) {
	if m != nil {
		m.outboxSilenced.Set(float64(n))
	}
}

// silenceCollectTimeout bounds the store read of a scrape; a store that
// does not answer leaves the last count read.
const silenceCollectTimeout = 2 * time.Second

// silenceCollector counts silences at scrape time: they live in the store,
// where any replica or the CLI adds and expires them, so no event here
// would keep a gauge current. It reads through the Silences' cache, so the
// store is read at most once a second however often it is scraped.
type silenceCollector struct {
	desc *prometheus.Desc
	src  atomic.Pointer[Silences]
}

func (c *silenceCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *silenceCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Load()
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), silenceCollectTimeout)
	defer cancel()
	counts, ok := s.activeBySource(ctx, s.now())
	if !ok {
		return
	}
	for _, source := range []string{SourceRuntime, SourceMaintenance} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[source]), source)
	}
}
