package checks

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the token series, emitted by the OAuth2 credentials
// themselves. A nil *Metrics records nothing.
type Metrics struct {
	tokenFetches   *prometheus.CounterVec
	tokenCacheHits *prometheus.CounterVec
}

// NewMetrics creates the token series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_token_fetches_total",
			Help: "Token endpoint calls by credential and outcome (ok, error).",
		}, []string{"env", "credential", "outcome"}),
		tokenCacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credmon_token_cache_hits_total",
			Help: "Probes served by a cached OAuth2 token, by credential.",
		}, []string{"env", "credential"}),
	}
	reg.MustRegister(m.tokenFetches, m.tokenCacheHits)
	return m
}

func (m *Metrics) tokenFetched(env, credential, outcome string) {
	if m != nil {
		m.tokenFetches.WithLabelValues(env, credential, outcome).Inc()
	}
}

func (m *Metrics) tokenCacheHit(env, credential string) {
	if m != nil {
		m.tokenCacheHits.WithLabelValues(env, credential).Inc()
	}
}

// ForgetCredential deletes the token series of a credential removed from
// the configuration.
func (m *Metrics) ForgetCredential(env, credential string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"env": env, "credential": credential}
	m.tokenFetches.DeletePartialMatch(l)
	m.tokenCacheHits.DeletePartialMatch(l)
}
