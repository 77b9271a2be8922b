package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	toolkit "github.com/prometheus/exporter-toolkit/web"
)

// Bounds of every request the daemon serves, unless ServerOptions say
// otherwise.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	// DefaultWriteTimeout leaves room for /metrics at 10,000 checks to a
	// slow scraper.
	DefaultWriteTimeout   = 60 * time.Second
	DefaultIdleTimeout    = 2 * time.Minute
	DefaultMaxHeaderBytes = 64 << 10
)

// ServerOptions bound the HTTP server; a zero field takes its default.
type ServerOptions struct {
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the whole request, headers and body: a client
	// that trickles a byte at a time cannot hold a connection open.
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
	// BaseContext is the parent of every request's context; default
	// context.Background.
	BaseContext context.Context
	// Logger receives what net/http would print to the standard logger
	// (TLS handshake failures, panics in handlers), as warnings.
	Logger *slog.Logger
}

func (o ServerOptions) withDefaults() ServerOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&o.ReadTimeout, DefaultReadTimeout)
	def(&o.WriteTimeout, DefaultWriteTimeout)
	def(&o.IdleTimeout, DefaultIdleTimeout)
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if o.BaseContext == nil {
		o.BaseContext = context.Background()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewServer is the one place the daemon's http.Server is built, so no
// listener goes without its timeouts. bound is the address the listener
// is bound to: on a loopback address, requests for other hosts are refused
// (see loopbackOnly).
func NewServer(handler http.Handler, bound net.Addr, opts ServerOptions) *http.Server {
	opts = opts.withDefaults()
	if isLoopbackAddr(bound) {
		handler = loopbackOnly(handler)
	}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return opts.BaseContext },
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
}

// Serve serves srv on ln until srv is shut down (http.ErrServerClosed).
// With webConfigFile set, that exporter-toolkit web configuration adds
// TLS, basic auth and response headers to every endpoint; it is re-read
// per request and per TLS handshake, so certificates and users change
// without a restart.
func Serve(ln net.Listener, srv *http.Server, webConfigFile string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	flags := &toolkit.FlagConfig{
		WebListenAddresses: &[]string{ln.Addr().String()},
		WebSystemdSocket:   new(bool),
		WebConfigFile:      &webConfigFile,
	}
	return toolkit.Serve(ln, srv, flags, log)
}
