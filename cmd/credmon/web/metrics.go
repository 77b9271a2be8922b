package web

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
)

// Metrics holds credmon's Prometheus series. Labels are limited to env,
// check, credential, cause and status: never a URL, identity or detail, so
// cardinality stays bounded by the configuration and nothing secret-adjacent
// reaches a time-series database.
type Metrics struct {
	// perCheck holds every series labelled by check (see checkCollector).
	perCheck      *checkCollector
	checkDuration *prometheus.HistogramVec

	tokenExpiry      *prometheus.GaugeVec
	credentialExpiry *prometheus.GaugeVec
	rotationDeadline *prometheus.GaugeVec

	configReloadOK   prometheus.Gauge
	configReloadTime prometheus.Gauge

	ops
}

// latencyBuckets span 1 ms to 10 s: loopback probes land at the bottom,
// a probe near its timeout at the top.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics creates credmon's metrics and registers them with reg. It
// panics if reg already holds them, as prometheus.MustRegister does: that is
// a programming error, not a runtime condition.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	cred := []string{"env", "credential"}
	m := &Metrics{
		perCheck: newCheckCollector(),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "credmon_check_duration_seconds",
			Help:    "Latency of check probes that sent a request.",
			Buckets: latencyBuckets,
		}, []string{"env"}),
		tokenExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_token_expiry_timestamp_seconds",
			Help: "Unix time the access token last used for the credential expires.",
		}, cred),
		credentialExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_credential_expiry_timestamp_seconds",
			Help: "Unix time the credential itself expires.",
		}, cred),
		rotationDeadline: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_rotation_deadline_timestamp_seconds",
			Help: "Unix time by which the credential must be rotated (rotated_at + max_age).",
		}, cred),
		configReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_config_last_reload_successful",
			Help: "1 if the last configuration load succeeded.",
		}),
		configReloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credmon_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}),
	}
	reg.MustRegister(
		m.perCheck, m.checkDuration,
		m.tokenExpiry, m.credentialExpiry, m.rotationDeadline,
		m.configReloadOK, m.configReloadTime,
	)
	m.ops = newOps(reg)
	return m
}

// ObserveResult records one finished check run. The check label is the
// subject's path: the check, credential:NAME/CONCERN or clock.
func (m *Metrics) ObserveResult(r checks.Result) {
	// No per-check HTTP status series: at 10,000 checks it would be
	// 10,000 more series, and the status API and page carry it.
	m.perCheck.observe(r.Env, r.Subject().Path(), &r)
	// A run that never sent a request (missing credential, hygiene) has no
	// latency worth a histogram sample.
	if r.Latency > 0 {
		m.checkDuration.WithLabelValues(r.Env).Observe(r.Latency.Seconds())
	}
	if r.Token != nil && r.Token.ExpiresAt != nil && r.Credential != "" {
		m.tokenExpiry.WithLabelValues(r.Env, r.Credential).Set(unixSeconds(*r.Token.ExpiresAt))
	}
}

// ForgetCheck deletes every per-check series of a check removed from the
// configuration, so that dashboards and alerts stop seeing it.
func (m *Metrics) ForgetCheck(env, check string) { m.perCheck.forget(env, check) }

// ForgetCredential deletes the expiry and deadline series of a credential
// removed from the configuration. The series of its concerns' results go
// with ForgetCheck of each concern's subject path, its token series with
// checks.Metrics.ForgetCredential.
func (m *Metrics) ForgetCredential(env, credential string) {
	l := prometheus.Labels{"env": env, "credential": credential}
	m.tokenExpiry.DeletePartialMatch(l)
	m.credentialExpiry.DeletePartialMatch(l)
	m.rotationDeadline.DeletePartialMatch(l)
}

// SetDeadline records a credential's deadline of kind DeadlineRotation,
// DeadlineExpiry or DeadlineToken as an absolute timestamp, as x509
// exporters do, so alerts read `… - time() < 86400*7`. A zero at removes
// the series; an unknown kind is ignored.
func (m *Metrics) SetDeadline(kind, env, credential string, at time.Time) {
	var g *prometheus.GaugeVec
	switch kind {
	case DeadlineRotation:
		g = m.rotationDeadline
	case DeadlineExpiry:
		g = m.credentialExpiry
	case DeadlineToken:
		g = m.tokenExpiry
	default:
		return
	}
	if at.IsZero() {
		g.DeleteLabelValues(env, credential)
		return
	}
	g.WithLabelValues(env, credential).Set(unixSeconds(at))
}

// ConfigReloaded records the outcome of a configuration load at time at.
func (m *Metrics) ConfigReloaded(ok bool, at time.Time) {
	if !ok {
		m.configReloadOK.Set(0)
		return
	}
	m.configReloadOK.Set(1)
	m.configReloadTime.Set(unixSeconds(at))
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
