package web

import (
	"bufio"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

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
		checkRegistration{m.perCheck}, m.checkDuration,
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

// WithCheckSeries makes /metrics write m's per-check series as text
// straight from their compact state, merged in name order with what the
// gatherer gives for everything else. Through the registry each of the
// 70,000 series of 10,000 checks becomes a metric object, a dto.Metric and
// then text: 40 MB allocated per scrape. From then on m's registration
// yields none of them to the registry, so no scrape builds them twice; a
// scrape that negotiates protobuf gets them through a registry of their
// own. m must be the Metrics registered with the gatherer given to
// NewHandler.
func WithCheckSeries(m *Metrics) HandlerOption {
	return func(s *server) { s.checkSeries = m.perCheck }
}

// metricsHandler serves /metrics: promhttp over gatherer, or with checks
// (WithCheckSeries) a metricsText.
func metricsHandler(gatherer prometheus.Gatherer, checks *checkCollector, log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{ErrorLog: promLog{log}, ErrorHandling: promhttp.ContinueOnError}
	if checks == nil {
		return promhttp.HandlerFor(gatherer, opts)
	}
	checks.direct.Store(true)
	own := prometheus.NewRegistry()
	own.MustRegister(checks)
	return &metricsText{
		rest:   gatherer,
		checks: checks,
		log:    promLog{log},
		dto:    promhttp.HandlerFor(prometheus.Gatherers{gatherer, own}, opts),
	}
}

// metricsText answers as promhttp.HandlerFor with ContinueOnError does —
// the same negotiation of format and compression, name[] filter and error
// handling — but writes the per-check families itself.
type metricsText struct {
	rest   prometheus.Gatherer
	checks *checkCollector
	log    promLog
	// dto serves the formats other than text (protobuf) the registry way.
	dto http.Handler
}

// scrapeScratch holds the buffer per-check lines are rendered into before
// they are written.
var scrapeScratch = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// gzipWriters are reused, at BestSpeed: the sorted text of 10,000 checks
// (3.6 MB) compresses 21:1 in about 8 ms, where promhttp's default level
// takes 45 ms for 23:1.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	return w
}}

func (h *metricsText) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
	if format.FormatType() != expfmt.TypeTextPlain {
		h.dto.ServeHTTP(w, r)
		return
	}
	mfs, err := h.rest.Gather()
	if err != nil {
		h.log.Println("error gathering metrics:", err)
		if len(mfs) == 0 {
			http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", string(format))
	out := io.Writer(w)
	if gzipWanted(r.Header) {
		hdr.Set("Content-Encoding", "gzip")
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(w)
		defer func() { _ = gz.Close(); gzipWriters.Put(gz) }()
		out = gz
	}
	bw := bufio.NewWriterSize(out, 32<<10)
	enc := expfmt.NewEncoder(bw, format)
	var only map[string]bool
	if names := queryNames(r); len(names) > 0 {
		only = map[string]bool{}
		for _, n := range names {
			only[n] = true
		}
	}
	scratch := scrapeScratch.Get().(*[]byte)
	defer scrapeScratch.Put(scratch)
	order := h.checks.ordered()
	next := checkFamily(0) // the next per-check family to write
	writeChecksBefore := func(name string) error {
		for ; int(next) < len(checkFamilies) && (name == "" || checkFamilies[next].name < name); next++ {
			if only != nil && !only[checkFamilies[next].name] {
				continue
			}
			var err error
			if *scratch, err = writeFamily(bw, next, order, *scratch); err != nil {
				return err
			}
		}
		return nil
	}
	for _, mf := range mfs {
		if err = writeChecksBefore(mf.GetName()); err != nil {
			break
		}
		if only != nil && !only[mf.GetName()] || isCheckFamily(mf.GetName()) {
			// The gatherer has no per-check series when m is registered
			// with it; if it has them from elsewhere, a family twice would
			// make the whole exposition invalid.
			continue
		}
		if err = enc.Encode(mf); err != nil {
			// As promhttp with ContinueOnError: one family that does not
			// encode is left out, the scrape goes on.
			h.log.Println("error encoding and sending metric family:", err)
			err = nil
		}
	}
	if err == nil {
		err = writeChecksBefore("")
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		h.log.Println("error sending metrics:", err)
	}
}

func isCheckFamily(name string) bool {
	for _, f := range checkFamilies {
		if f.name == name {
			return true
		}
	}
	return false
}

// queryNames are the families asked for with name[], as promhttp reads
// them; none: all.
func queryNames(r *http.Request) []string {
	if r.URL == nil {
		return nil
	}
	return r.URL.Query()["name[]"]
}

// gzipWanted reports whether a client gets gzip, decided as promhttp
// decides between its offers identity and gzip: the offer with the highest
// q wins, identity on a tie (so "*" alone is identity), and a q of 0
// refuses.
func gzipWanted(h http.Header) bool {
	best, bestQ := "", -1.0
	for _, offer := range []string{"identity", "gzip"} {
		for _, line := range h.Values("Accept-Encoding") {
			for spec := range strings.SplitSeq(line, ",") {
				value, param, hasParam := strings.Cut(spec, ";")
				if value = strings.TrimSpace(value); value != "*" && value != offer {
					continue
				}
				q := 1.0
				if hasParam {
					v, ok := strings.CutPrefix(strings.TrimSpace(param), "q=")
					f, err := strconv.ParseFloat(v, 64)
					if !ok || err != nil || f < 0 || f > 1 {
						continue
					}
					q = f
				}
				if q > bestQ {
					best, bestQ = offer, q
				}
			}
		}
	}
	return best == "gzip" && bestQ > 0
}
