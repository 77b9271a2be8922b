package web

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ops are the daemon's operational series: tokens, coordination, clock and
// delivery.
type ops struct {
	tokenFetches      *prometheus.CounterVec
	tokenCacheHits    *prometheus.CounterVec
	tokenOpenFailures prometheus.Gauge
	ticksElsewhere    prometheus.Counter
	storeUp           prometheus.Gauge
	clockOffset       prometheus.Gauge
	outboxDepth       prometheus.Gauge
	notifications     *prometheus.CounterVec
}

func newOps(reg prometheus.Registerer) ops {
	o := ops{
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_token_fetches_total",
			Help: "Token endpoint calls by credential and outcome (ok, error).",
		}, []string{"env", "credential", "outcome"}),
		tokenCacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_token_cache_hits_total",
			Help: "Probes served by a cached OAuth2 token, by credential.",
		}, []string{"env", "credential"}),
		tokenOpenFailures: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_token_cache_open_failures",
			Help: "Shared tokens that did not decrypt (a wrong or changed store.encryption_key).",
		}),
		ticksElsewhere: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credmon_scheduler_ticks_claimed_elsewhere_total",
			Help: "Scheduled runs another replica claimed first.",
		}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_store_up",
			Help: "1 while the shared store answers; 0 while this replica runs on its local fallback.",
		}),
		clockOffset: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_clock_offset_seconds",
			Help: "Local clock offset from NTP (median of valid servers); add to local time to get NTP time.",
		}),
		outboxDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_outbox_depth",
			Help: "Notifications waiting for delivery.",
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_notifications_total",
			Help: "Notification deliveries by notifier and outcome (sent, failed_retrying, failed_permanent).",
		}, []string{"notifier", "outcome"}),
	}
	o.storeUp.Set(1)
	reg.MustRegister(o.tokenFetches, o.tokenCacheHits, o.tokenOpenFailures, o.ticksElsewhere, o.storeUp, o.clockOffset, o.outboxDepth, o.notifications)
	return o
}

// TokenFetched counts one token endpoint call.
func (o *ops) TokenFetched(env, credential, outcome string) {
	o.tokenFetches.WithLabelValues(env, credential, outcome).Inc()
}

// TokenCacheHit counts a probe served by a cached token.
func (o *ops) TokenCacheHit(env, credential string) {
	o.tokenCacheHits.WithLabelValues(env, credential).Inc()
}

// TokenOpenFailures sets the count of undecryptable shared tokens.
func (o *ops) TokenOpenFailures(n int64) { o.tokenOpenFailures.Set(float64(n)) }

// TickClaimedElsewhere counts a run left to another replica.
func (o *ops) TickClaimedElsewhere() { o.ticksElsewhere.Inc() }

// StoreUp records whether the shared store answers.
func (o *ops) StoreUp(up bool) {
	v := 0.0
	if up {
		v = 1
	}
	o.storeUp.Set(v)
}

// ClockOffset records the NTP offset.
func (o *ops) ClockOffset(d time.Duration) { o.clockOffset.Set(d.Seconds()) }

// OutboxDepth records how many notifications wait.
func (o *ops) OutboxDepth(n int) { o.outboxDepth.Set(float64(n)) }

// Notification counts one delivery attempt's outcome.
func (o *ops) Notification(notifier, outcome string) {
	o.notifications.WithLabelValues(notifier, outcome).Inc()
}
