package web

import (
	"net/http"
	"net/http/pprof"
)

// WithPprof adds Go's profiles at /debug/pprof/ (server.pprof: true) in
// front of next. The result goes to NewServer and Serve like any handler,
// so the loopback Host guard and the web config's TLS and basic auth cover
// the profiles too. Importing net/http/pprof registers on
// http.DefaultServeMux, which credmon never serves; the routes here are
// explicit.
func WithPprof(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("/", next)
	return mux
}
