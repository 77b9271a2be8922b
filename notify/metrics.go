package notify

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the delivery series, emitted by the dispatcher itself. A nil
// *Metrics records nothing.
type Metrics struct {
	notifications *prometheus.CounterVec
	outboxDepth   prometheus.Gauge
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
	}
	reg.MustRegister(m.notifications, m.outboxDepth)
	return m
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
