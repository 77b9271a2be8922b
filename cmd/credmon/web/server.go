package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// NewHandler serves the daemon's HTTP surface: the status page at /, the
// JSON status at /api/v1/status, /metrics from gatherer, /healthz and
// /readyz with their Prometheus-style aliases /-/healthy and /-/ready, and
// with WithReload, POST /-/reload. Only GET and HEAD are allowed elsewhere;
// other paths are 404.
func NewHandler(src Source, gatherer prometheus.Gatherer, log *slog.Logger, opts ...HandlerOption) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if gatherer == nil {
		gatherer = prometheus.NewRegistry()
	}
	s := &server{src: src, log: log, page: newPage()}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	// A GET pattern also matches HEAD; the mux answers 405 with an Allow
	// header for other methods on these paths and 404 for unknown paths.
	mux.HandleFunc("GET /{$}", s.statusPage)
	mux.HandleFunc("GET /api/v1/status", s.status)
	mux.Handle("GET /metrics", metricsHandler(gatherer, s.checkSeries, log))
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /-/healthy", healthz)
	mux.HandleFunc("GET /-/ready", s.readyz)
	if s.reload != nil {
		// Prometheus accepts both; GET is 405, so a crawler or a link
		// preview never reloads anything.
		mux.HandleFunc("POST /-/reload", s.reloadConfig)
		mux.HandleFunc("PUT /-/reload", s.reloadConfig)
	}
	if s.silences != nil {
		mux.HandleFunc("GET /api/v1/silences", s.listSilences)
		mux.HandleFunc("POST /api/v1/silences", s.addSilence)
		mux.HandleFunc("POST /api/v1/silences/{id}/expire", s.expireSilence)
	}
	return securityHeaders(mux)
}

type server struct {
	src    Source
	log    *slog.Logger
	page   *page
	reload func() error
	// silences serves /api/v1/silences; nil: 404.
	silences SilenceAPI
	// checkSeries are written directly at /metrics (WithCheckSeries).
	checkSeries *checkCollector
}

// securityHeaders applies to every response: the page is the one that needs
// them, but a JSON or text body rendered by a browser gains nothing from
// being allowed to load anything either.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

func (s *server) snapshot(w http.ResponseWriter, r *http.Request) *Snapshot {
	snap, err := s.src.Snapshot(r.Context())
	if err == nil && snap == nil {
		err = fmt.Errorf("no snapshot")
	}
	if err != nil {
		// The error stays in the log: it may name store addresses that an
		// anonymous reader of the page has no need for.
		s.log.Warn("status snapshot failed", "path", r.URL.Path, "err", err)
		http.Error(w, "status unavailable", http.StatusServiceUnavailable)
		return nil
	}
	return snap
}

func (s *server) statusPage(w http.ResponseWriter, r *http.Request) {
	snap := s.snapshot(w, r)
	if snap == nil {
		return
	}
	// Render fully before writing so a template failure is a clean 500,
	// not half a page with a 200.
	var buf bytes.Buffer
	if err := s.page.render(&buf, snap, r.URL.Query()); err != nil {
		s.log.Error("status page render failed", "err", err)
		http.Error(w, "status page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	snap := s.snapshot(w, r)
	if snap == nil {
		return
	}
	body, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		s.log.Error("status encode failed", "err", err)
		http.Error(w, "status encode failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(body, '\n'))
}

// healthz answers while the process serves HTTP at all: liveness must not
// depend on Redis or the config, or an orchestrator restarts a replica that
// is merely waiting for its dependencies.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	var notReady []string
	if rs, ok := s.src.(Readiness); ok {
		notReady = rs.NotReady(r.Context())
	} else {
		snap := s.snapshot(w, r)
		if snap == nil {
			return
		}
		if !snap.Ready {
			notReady = snap.NotReady
			if len(notReady) == 0 {
				notReady = []string{"not ready"}
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(notReady) == 0 {
		_, _ = w.Write([]byte("ready\n"))
		return
	}
	var b strings.Builder
	for _, reason := range notReady {
		// One reason per line: a reason carrying a newline would read as two.
		b.WriteString(strings.Join(strings.Fields(reason), " "))
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		b.WriteString("not ready\n")
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(b.String()))
}

// promLog routes promhttp's error log into slog.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn("metrics: " + fmt.Sprint(v...)) }
