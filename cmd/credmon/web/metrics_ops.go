package web

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ops are the daemon's operational series: the token cache, coordination
// and the clock. Delivery's are notify.Metrics, the token endpoint's
// checks.Metrics, each emitted by its part.
type ops struct {
	tokenOpenFailures prometheus.Gauge
	ticksElsewhere    prometheus.Counter
	ticksOwned        prometheus.Counter
	storeUp           prometheus.Gauge
	clockOffset       prometheus.Gauge
}

func newOps(reg prometheus.Registerer) ops {
	o := ops{
		tokenOpenFailures: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_token_cache_open_failures",
			Help: "Shared tokens that did not decrypt (a wrong or changed store.encryption_key).",
		}),
		ticksElsewhere: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credmon_scheduler_ticks_claimed_elsewhere_total",
			Help: "Scheduled runs another replica claimed first.",
		}),
		ticksOwned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credmon_scheduler_ticks_owned_elsewhere_total",
			Help: "Scheduled runs left to the replica that owns the check.",
		}),
		storeUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_store_up",
			Help: "1 while the shared store answers; 0 while this replica runs on its local fallback.",
		}),
		clockOffset: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_clock_offset_seconds",
			Help: "Local clock offset from NTP (median of valid servers); add to local time to get NTP time.",
		}),
	}
	o.storeUp.Set(1)
	reg.MustRegister(o.tokenOpenFailures, o.ticksElsewhere, o.ticksOwned, o.storeUp, o.clockOffset)
	return o
}

// TokenOpenFailures sets the count of undecryptable shared tokens.
func (o *ops) TokenOpenFailures(n int64) { o.tokenOpenFailures.Set(float64(n)) }

// TickClaimedElsewhere counts a run left to another replica.
func (o *ops) TickClaimedElsewhere() { o.ticksElsewhere.Inc() }

// TickOwnedElsewhere counts a run left to the check's owner.
func (o *ops) TickOwnedElsewhere() { o.ticksOwned.Inc() }

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
