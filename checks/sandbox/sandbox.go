// Package sandbox is a local fake API and OAuth2 token endpoint with real
// credential failure modes, for `credmon demo` and for tests across credmon.
package sandbox

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The sandbox's API paths, one per credential failure mode. Each checks the
// credential it receives exactly, so a probe that sends the wrong thing fails.
const (
	PathToken         = "/oauth/token"    // client-credentials grant
	PathAccount       = "/v1/account"     // Bearer KeyAccount: healthy
	PathEvents        = "/v1/events"      // Bearer KeyEvents; the demo sends it without "Bearer "
	PathSession       = "/v1/session"     // sandbox JWTs; the demo sends an expired one
	PathBilling       = "/v1/billing"     // client-credentials tokens with scope billing.read
	PathLedger        = "/v1/ledger"      // client-credentials tokens; the demo's client is revoked
	PathCharges       = "/v1/charges"     // Bearer KeyChargesLive or KeyChargesTest, like a live/test-mode API
	PathAdmin         = "/v1/admin"       // tokens with scope admin.write; others get 403 insufficient_scope
	PathLegacy        = "/v1/legacy"      // X-API-Key; 401 without WWW-Authenticate
	PathTime          = "/v1/time"        // Bearer KeyAccount; the Date header runs ClockSkew ahead
	PathSlackAuthTest = "/v1/auth.test"   // Slack-style: always 200, {"ok": false} for dead tokens
	PathReports       = "/v1/reports"     // HTTP Basic
	PathRotating      = "/v1/rotating"    // Bearer KeyRotatingCurrent or, until RevokePrevious, KeyRotatingPrevious
	pathOther         = "(unknown route)" // Stats key for requests no route matched
)

// Fake credentials the sandbox accepts. They look fake on purpose.
const (
	KeyAccount          = "sk_live_FAKEdemoAccount0001"
	KeyEvents           = "sk_live_FAKEdemoEvents0001"
	KeyChargesLive      = "sk_live_FAKEdemoCharges0001"
	KeyChargesTest      = "sk_test_FAKEdemoCharges0001"
	KeyLegacy           = "lk_FAKEdemoLegacy0001"
	KeyRotatingCurrent  = "sk_live_FAKEdemoRotating0002"
	KeyRotatingPrevious = "sk_live_FAKEdemoRotating0001"

	SlackTokenActive   = "xoxb-FAKEdemo-active"
	SlackTokenInactive = "xoxb-FAKEdemo-inactive"

	BasicUser     = "reports"
	BasicPassword = "pw_FAKEdemoReports0001"

	ClientID            = "credmon-demo"
	ClientSecret        = "cs_FAKEdemoClient0001"
	RevokedClientID     = "revoked-client"
	RevokedClientSecret = "cs_FAKEdemoRevoked0001"

	ScopeBilling = "billing.read"
	ScopeAdmin   = "admin.write"
)

// TokenLifetime is the expires_in of every granted token.
const TokenLifetime = 300 * time.Second

// ClockSkew is how far ahead the Date header of PathTime runs.
const ClockSkew = 5 * time.Minute

// realm names the sandbox in every challenge.
const realm = "sandbox"

// Sandbox is a running fake API on a loopback port.
type Sandbox struct {
	url string
	srv *http.Server
	// served is closed when Serve has returned, so Close can wait for it.
	served    chan struct{}
	closeOnce sync.Once
	closeErr  error
	stopCtx   func() bool

	previousRevoked atomic.Bool

	// expiredJWT and stagingJWT are minted at start so Config can embed them.
	expiredJWT string
	stagingJWT string

	mu       sync.Mutex
	requests map[string]int
	grants   map[string]int
	denials  map[string]int
	tokens   map[string]issuedToken // by the full token string
}

// Stats counts what the sandbox has served, for tests that assert how often
// credmon called it.
type Stats struct {
	// Requests counts requests per path (a Path* constant), including the
	// token endpoint.
	Requests map[string]int
	// Grants counts issued tokens per client_id.
	Grants map[string]int
	// Denials counts refused token requests per OAuth2 error code
	// ("invalid_client", "unsupported_grant_type", ...).
	Denials map[string]int
}

// Start listens on 127.0.0.1:0 and serves until Close or until ctx is done.
func Start(ctx context.Context) (*Sandbox, error) {
	return StartOn(ctx, "127.0.0.1:0", "")
}

// StartOn starts the sandbox on addr. publicURL is the base URL clients
// use (and tokens name as issuer), for a sandbox in a container reached by
// service name; "" means http://ADDR.
func StartOn(ctx context.Context, addr, publicURL string) (*Sandbox, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}
	s := &Sandbox{
		url:      strings.TrimSuffix(publicURL, "/"),
		served:   make(chan struct{}),
		requests: map[string]int{},
		grants:   map[string]int{},
		denials:  map[string]int{},
		tokens:   map[string]issuedToken{},
	}
	s.expiredJWT = s.MintToken(Claims{Subject: "session-user", Scope: "session", TTL: -time.Hour})
	// Three days: inside the default 7d expiry band, so staging shows
	// token_expiring rather than ok.
	s.stagingJWT = s.MintToken(Claims{Subject: "session-user", Scope: "session", TTL: 72 * time.Hour})

	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // always ErrServerClosed or a listener error after Close
	}()
	// Under mu: if ctx is already done, the AfterFunc's Close runs at once
	// and reads stopCtx.
	s.mu.Lock()
	s.stopCtx = context.AfterFunc(ctx, func() { _ = s.Close() })
	s.mu.Unlock()
	return s, nil
}

// URL is the sandbox's base URL, "http://127.0.0.1:PORT", without a slash.
func (s *Sandbox) URL() string { return s.url }

// Issuer is the iss of every token the sandbox mints.
func (s *Sandbox) Issuer() string { return s.url + "/" }

// Audience is the aud the sandbox's API requires of tokens.
func (s *Sandbox) Audience() string { return s.url + "/v1" }

// TokenURL is the client-credentials token endpoint.
func (s *Sandbox) TokenURL() string { return s.url + PathToken }

// RevokePrevious makes PathRotating refuse KeyRotatingPrevious from now on,
// as an API does once a rotation completes.
func (s *Sandbox) RevokePrevious() { s.previousRevoked.Store(true) }

// Done is closed once the server has stopped listening, by Close or by the
// end of the context given to Start.
func (s *Sandbox) Done() <-chan struct{} { return s.served }

// Close stops the server, giving in-flight requests up to 2s before their
// connections are dropped, and waits until it has stopped. It is safe to
// call more than once.
func (s *Sandbox) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		stop := s.stopCtx
		s.mu.Unlock()
		if stop != nil {
			stop()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.srv.Close()
		}
		<-s.served
		s.closeErr = err
	})
	return s.closeErr
}

// Stats returns a copy of the counters.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Requests: clone(s.requests),
		Grants:   clone(s.grants),
		Denials:  clone(s.denials),
	}
}

func clone(m map[string]int) map[string]int {
	c := make(map[string]int, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, h http.HandlerFunc) {
		mux.Handle(path, s.counted(path, h))
	}
	handle(PathToken, s.serveToken)
	handle(PathAccount, s.bearerKey(KeyAccount))
	handle(PathEvents, s.bearerKey(KeyEvents))
	handle(PathSession, s.bearerJWT(""))
	handle(PathBilling, s.bearerJWT(ScopeBilling))
	handle(PathLedger, s.bearerJWT(""))
	handle(PathCharges, s.bearerKey(KeyChargesLive, KeyChargesTest))
	handle(PathAdmin, s.bearerJWT(ScopeAdmin))
	handle(PathLegacy, s.serveLegacy)
	handle(PathTime, s.skewedDate(s.bearerKey(KeyAccount)))
	handle(PathSlackAuthTest, s.serveSlackAuthTest)
	handle(PathReports, s.serveReports)
	handle(PathRotating, s.serveRotating)
	// Unauthenticated liveness, for container healthchecks.
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	})
	mux.Handle("/", s.counted(pathOther, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not_found"})
	}))
	return mux
}

func (s *Sandbox) counted(path string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[path]++
		s.mu.Unlock()
		h(w, r)
	})
}
