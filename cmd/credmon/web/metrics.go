package web

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
)

// Metrics holds credmon's Prometheus series. Labels are limited to env,
// check, credential, cause and status: never a URL, identity or detail, so
// cardinality stays bounded by the configuration and nothing secret-adjacent
// reaches a time-series database.
type Metrics struct {
	checkUp          *prometheus.GaugeVec
	checkStatus      *prometheus.GaugeVec
	checkResults     *prometheus.CounterVec
	checkFindings    *prometheus.CounterVec
	checkDuration    *prometheus.HistogramVec
	checkLastRun     *prometheus.GaugeVec
	serverTimeOffset *prometheus.GaugeVec

	tokenExpiry      *prometheus.GaugeVec
	credentialExpiry *prometheus.GaugeVec
	rotationDeadline *prometheus.GaugeVec

	configReloadOK   prometheus.Gauge
	configReloadTime prometheus.Gauge

	ops

	mu         sync.Mutex
	lastStatus map[[2]string][2]string // (env, check) → (status, cause) of its status series
}

// setStatus keeps exactly one credmon_check_status series per check: one
// series instead of one per status keeps 10,000 checks at 10,000 series,
// and the cause label makes `credmon_check_status{cause="revoked"}` an alert.
func (m *Metrics) setStatus(env, check, status, cause string) {
	k := [2]string{env, check}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.lastStatus[k]; ok && prev != [2]string{status, cause} {
		m.checkStatus.DeleteLabelValues(env, check, prev[0], prev[1])
	}
	if m.lastStatus == nil {
		m.lastStatus = map[[2]string][2]string{}
	}
	m.lastStatus[k] = [2]string{status, cause}
	m.checkStatus.WithLabelValues(env, check, status, cause).Set(1)
}

// latencyBuckets span 1 ms to 10 s: loopback probes land at the bottom,
// a probe near its timeout at the top.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics creates credmon's metrics and registers them with reg. It
// panics if reg already holds them, as prometheus.MustRegister does: that is
// a programming error, not a runtime condition.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	check := []string{"env", "check"}
	cred := []string{"env", "credential"}
	m := &Metrics{
		checkUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_check_up",
			Help: "1 if the last run of the check was ok or warn, 0 otherwise.",
		}, check),
		checkStatus: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_check_status",
			Help: "1 for the current status and cause of each check (one series per check; the series changes labels when the status or cause does).",
		}, []string{"env", "check", "status", "cause"}),
		checkResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_check_results_total",
			Help: "Check runs by main cause.",
		}, []string{"env", "check", "cause"}),
		checkFindings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_check_findings_total",
			Help: "Secondary causes reported alongside a run's main cause, such as missing_challenge.",
		}, []string{"env", "check", "cause"}),
		checkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "credmon_check_duration_seconds",
			Help:    "Latency of check probes that sent a request.",
			Buckets: latencyBuckets,
		}, []string{"env"}),
		checkLastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_check_last_run_timestamp_seconds",
			Help: "Unix time the last run of the check started.",
		}, check),
		serverTimeOffset: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "credmon_server_time_offset_seconds",
			Help: "The server's Date header minus our clock, from the last response.",
		}, check),
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
		m.checkUp, m.checkStatus, m.checkResults, m.checkFindings, m.checkDuration,
		m.checkLastRun, m.serverTimeOffset,
		m.tokenExpiry, m.credentialExpiry, m.rotationDeadline,
		m.configReloadOK, m.configReloadTime,
	)
	m.ops = newOps(reg)
	return m
}

// ObserveResult records one finished check run. The check label is the
// subject's path: the check, credential:NAME/CONCERN or clock.
func (m *Metrics) ObserveResult(r checks.Result) {
	check := r.Subject().Path()
	up := 0.0
	if r.Status == checks.StatusOK || r.Status == checks.StatusWarn {
		up = 1
	}
	m.checkUp.WithLabelValues(r.Env, check).Set(up)
	m.setStatus(r.Env, check, string(r.Status), string(r.Cause))

	// Only causes seen get a series: pre-creating all twenty per check would
	// cost 200,000 series at 10,000 checks. Alert on credmon_check_up or
	// credmon_check_status, which exist from the first run.
	m.checkResults.WithLabelValues(r.Env, check, string(r.Cause)).Inc()
	for _, f := range r.Findings {
		m.checkFindings.WithLabelValues(r.Env, check, string(f.Cause)).Inc()
	}

	// A run that never sent a request (missing credential, hygiene) has no
	// latency worth a histogram sample.
	if r.Latency > 0 {
		m.checkDuration.WithLabelValues(r.Env).Observe(r.Latency.Seconds())
	}
	started := r.Started
	if started.IsZero() {
		started = r.Tick
	}
	if !started.IsZero() {
		m.checkLastRun.WithLabelValues(r.Env, check).Set(unixSeconds(started))
	}
	// No per-check HTTP status series: at 10,000 checks every series per
	// check costs about 6 MiB, and the status API and page carry it.
	// Without a response there is no Date header; keep the last known offset
	// rather than report a perfect 0.
	if r.HTTPStatus != 0 {
		m.serverTimeOffset.WithLabelValues(r.Env, check).Set(r.ServerTimeOffset.Seconds())
	}
	if r.Token != nil && r.Token.ExpiresAt != nil && r.Credential != "" {
		m.tokenExpiry.WithLabelValues(r.Env, r.Credential).Set(unixSeconds(*r.Token.ExpiresAt))
	}
}

// ForgetCheck deletes every per-check series of a check removed from the
// configuration, so that dashboards and alerts stop seeing it.
func (m *Metrics) ForgetCheck(env, check string) {
	m.mu.Lock()
	delete(m.lastStatus, [2]string{env, check})
	m.mu.Unlock()
	l := prometheus.Labels{"env": env, "check": check}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{
		m.checkUp, m.checkStatus, m.checkResults, m.checkFindings, m.checkLastRun,
		m.serverTimeOffset,
	} {
		v.DeletePartialMatch(l)
	}
}

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
