package checks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

const (
	fakeClientID     = "credmon-test"
	fakeClientSecret = "cs_FAKE_client_secret_0000"
)

// tokenEndpoint is a real RFC 6749 token endpoint on loopback that checks
// the client's credentials and counts grants.
type tokenEndpoint struct {
	*httptest.Server
	grants    atomic.Int64
	expiresIn int // 0: omit expires_in
	mu        sync.Mutex
	issued    map[string]bool // access tokens handed out
	refresh   string          // the one valid refresh token (rotated on use)
	serial    int
}

func newTokenEndpoint(t *testing.T) *tokenEndpoint {
	te := &tokenEndpoint{issued: map[string]bool{}, expiresIn: 300, refresh: "rt_FAKE_0"}
	te.Server = httptest.NewServer(http.HandlerFunc(te.serve))
	t.Cleanup(te.Close)
	return te
}

func (te *tokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != fakeClientID || secret != fakeClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
		return
	}
	te.mu.Lock()
	defer te.mu.Unlock()
	resp := map[string]any{"token_type": "Bearer"}
	switch r.PostFormValue("grant_type") {
	case "client_credentials":
	case "refresh_token":
		if r.PostFormValue("refresh_token") != te.refresh {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token already used"}`)
			return
		}
		te.serial++
		te.refresh = fmt.Sprintf("rt_FAKE_%d", te.serial)
		resp["refresh_token"] = te.refresh
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
		return
	}
	n := te.grants.Add(1)
	tok := fmt.Sprintf("at_FAKE_access_token_%04d", n)
	te.issued[tok] = true
	resp["access_token"] = tok
	if te.expiresIn > 0 {
		resp["expires_in"] = te.expiresIn
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func (te *tokenEndpoint) revokeAll() {
	te.mu.Lock()
	te.issued = map[string]bool{}
	te.mu.Unlock()
}

func (te *tokenEndpoint) valid(tok string) bool {
	te.mu.Lock()
	defer te.mu.Unlock()
	return te.issued[tok]
}

// tokenAPI accepts only tokens the endpoint issued; revoked clients' tokens
// are refused even when fresh.
func tokenAPI(t *testing.T, te *tokenEndpoint, revoked *atomic.Bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !te.valid(tok) || (revoked != nil && revoked.Load()) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="token not active"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ccCred(te *tokenEndpoint) *config.Credential {
	return &config.Credential{Type: config.TypeOAuth2ClientCredentials, TokenURL: te.URL, ClientID: fakeClientID,
		ClientSecret: config.Literal(fakeClientSecret), RefreshBefore: config.Duration(time.Minute)}
}

func TestOAuth2OneFetchServesAllChecks(t *testing.T) {
	te := newTokenEndpoint(t)
	api := tokenAPI(t, te, nil)
	c := newFixture(api.URL, ccCred(te)).build(t)
	var wg sync.WaitGroup
	results := make([]checks.Result, 50)
	for i := range results {
		wg.Go(func() { results[i] = c.Run(context.Background(), time.Now()) })
	}
	wg.Wait()
	for _, r := range results {
		wantCause(t, r, checks.CauseOK)
	}
	if n := te.grants.Load(); n != 1 {
		t.Fatalf("token endpoint called %d times for 50 concurrent probes, want 1", n)
	}
}

func TestOAuth2RefreshBeforeExpiry(t *testing.T) {
	te := newTokenEndpoint(t)
	te.expiresIn = 120
	api := tokenAPI(t, te, nil)
	now := time.Now()
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	f := newFixture(api.URL, ccCred(te))
	f.deps.Now = func() time.Time { return *clock.Load() }
	reg := prometheus.NewRegistry()
	f.deps.Metrics = checks.NewMetrics(reg)
	hits := func() float64 { return counterValue(t, reg, "credmon_token_cache_hits_total") }
	c := f.build(t)
	wantCause(t, c.Run(context.Background(), now), checks.CauseOK)
	later := now.Add(59 * time.Second) // 61s before expiry: still fresh
	clock.Store(&later)
	wantCause(t, c.Run(context.Background(), later), checks.CauseOK)
	if n := te.grants.Load(); n != 1 {
		t.Fatalf("grants = %d before refresh_before, want 1", n)
	}
	if n := hits(); n != 1 {
		t.Fatalf("cache hits = %v, want 1 (the second probe)", n)
	}
	later2 := now.Add(61 * time.Second) // within refresh_before of expiry
	clock.Store(&later2)
	wantCause(t, c.Run(context.Background(), later2), checks.CauseOK)
	if n := te.grants.Load(); n != 2 {
		t.Fatalf("grants = %d after refresh_before, want 2", n)
	}
}

func TestOAuth2StaleTokenIsRefreshedAndRetried(t *testing.T) {
	te := newTokenEndpoint(t)
	api := tokenAPI(t, te, nil)
	c := newFixture(api.URL, ccCred(te)).build(t)
	wantCause(t, c.Run(context.Background(), time.Now()), checks.CauseOK)
	te.revokeAll() // the server forgot the cached token (key rollover)
	r := c.Run(context.Background(), time.Now())
	wantCause(t, r, checks.CauseOK)
	if n := te.grants.Load(); n != 2 {
		t.Fatalf("grants = %d, want 2 (one refetch after the 401)", n)
	}
}

func TestOAuth2Revoked(t *testing.T) {
	te := newTokenEndpoint(t)
	var revoked atomic.Bool
	api := tokenAPI(t, te, &revoked)
	c := newFixture(api.URL, ccCred(te)).build(t)
	wantCause(t, c.Run(context.Background(), time.Now()), checks.CauseOK)
	revoked.Store(true)
	r := c.Run(context.Background(), time.Now())
	wantCause(t, r, checks.CauseRevoked)
	if n := te.grants.Load(); n != 2 {
		t.Fatalf("grants = %d, want 2 (a fresh token was tried once)", n)
	}
}

func TestOAuth2TokenEndpointRejected(t *testing.T) {
	te := newTokenEndpoint(t)
	api := tokenAPI(t, te, nil)
	cred := ccCred(te)
	cred.ClientSecret = config.Literal("cs_FAKE_wrong_secret_9999")
	r := newFixture(api.URL, cred).run(t)
	wantCause(t, r, checks.CauseTokenEndpointRejected)
	if !strings.Contains(r.Detail, "invalid_client") || !strings.Contains(r.Detail, "client authentication failed") {
		t.Errorf("detail should carry the RFC 6749 error: %s", r.Detail)
	}
	if strings.Contains(r.Detail+r.Hint, "cs_FAKE") {
		t.Errorf("client secret leaked: %s %s", r.Detail, r.Hint)
	}
}

func TestOAuth2TokenEndpointUnreachable(t *testing.T) {
	te := newTokenEndpoint(t)
	api := tokenAPI(t, te, nil)
	cred := ccCred(te)
	te.Close()
	r := newFixture(api.URL, cred).run(t)
	wantCause(t, r, checks.CauseUnreachable)
	if !strings.Contains(r.Detail, "token endpoint") {
		t.Errorf("detail should say the token endpoint is unreachable: %s", r.Detail)
	}
}

func TestOAuth2NoExpiresIn(t *testing.T) {
	te := newTokenEndpoint(t)
	te.expiresIn = 0
	api := tokenAPI(t, te, nil)
	cache := checks.NewLocalTokens()
	cred := ccCred(te)
	cred.TokenMaxAge = config.Duration(5 * time.Minute)
	f := newFixture(api.URL, cred)
	f.deps.Tokens = cache
	wantCause(t, f.run(t), checks.CauseOK)
	tok, _ := cache.LoadToken(context.Background(), "prod/cred")
	if tok == nil || tok.ExpirySource != "max_age" || tok.Expiry.Sub(tok.FetchedAt) != 5*time.Minute {
		t.Fatalf("token without expires_in cached as %+v, want max_age expiry", tok)
	}
}

func TestOAuth2RefreshTokenRotation(t *testing.T) {
	te := newTokenEndpoint(t)
	api := tokenAPI(t, te, nil)
	cache := checks.NewLocalTokens() // survives "restarts" below, like the store
	cred := &config.Credential{Type: config.TypeOAuth2RefreshToken, TokenURL: te.URL, ClientID: fakeClientID,
		ClientSecret: config.Literal(fakeClientSecret), RefreshToken: config.Literal("rt_FAKE_0"), RefreshBefore: config.Duration(time.Minute)}
	for i := range 3 {
		te.revokeAll() // force a refresh each round
		f := newFixture(api.URL, cred)
		f.deps.Tokens = cache
		r := f.run(t) // a new process each round, sharing the cache
		wantCause(t, r, checks.CauseOK)
		tok, _ := cache.LoadToken(context.Background(), "prod/cred")
		if want := fmt.Sprintf("rt_FAKE_%d", i+1); tok == nil || tok.RefreshToken != want {
			t.Fatalf("round %d: cached refresh token is not the rotated one (%v)", i, tok != nil)
		}
	}
}

// counterValue sums every series of the counter name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
