package web

import (
	"net/http"
	"net/url"
	"strings"
)

// HandlerOption adds an optional endpoint to NewHandler.
type HandlerOption func(*server)

// WithReload serves POST (and PUT) /-/reload: reload is called and its
// outcome answered, 200 or 500 with the error's first line. Without this
// option the path is 404, as in Prometheus without --web.enable-lifecycle.
// reload must be the same reload SIGHUP triggers and safe to call while
// one runs.
func WithReload(reload func() error) HandlerOption {
	return func(s *server) { s.reload = reload }
}

func (s *server) reloadConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// A page on another site can make a browser POST here (a form needs no
	// CORS preflight); a reload is harmless, but no other origin has a
	// reason to ask for one.
	if crossOrigin(r) {
		http.Error(w, "cross-origin reload refused", http.StatusForbidden)
		return
	}
	if err := s.reload(); err != nil {
		// The same first line /readyz shows: positions and field paths,
		// which the operator asking needs and which carry no secret.
		first, _, _ := strings.Cut(err.Error(), "\n")
		msg := strings.Join(strings.Fields(first), " ")
		http.Error(w, "config reload failed (the previous configuration keeps running): "+msg, http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("config reloaded\n"))
}

// crossOrigin reports whether a browser says the request comes from a
// page of another origin.
func crossOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}
