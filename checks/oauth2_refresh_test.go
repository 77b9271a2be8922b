package checks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// refreshEndpoint is a strict refresh_token grant endpoint: it answers a
// token only to a request that carries every parameter it expects, exactly
// once, the current refresh token and the client's credentials in the
// configured place; anything else gets invalid_request naming what was
// wrong. Each grant rotates the refresh token.
type refreshEndpoint struct {
	*httptest.Server
	style  string            // "header" or "params"
	params map[string]string // besides client auth, each must arrive once with this value

	mu      sync.Mutex
	refresh string // the one valid refresh token
	serial  int
	issued  map[string]bool
}

func newRefreshEndpoint(t *testing.T, style string, extra map[string]string) *refreshEndpoint {
	e := &refreshEndpoint{style: style, params: extra, refresh: "rt_FAKE_0", issued: map[string]bool{}}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

func (e *refreshEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	refuse := func(code, why string) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": why})
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		refuse("invalid_request", "want a form POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		refuse("invalid_request", "unparsable form")
		return
	}
	form := r.PostForm
	id, secret, basic := r.BasicAuth()
	switch e.style {
	case "header":
		if !basic || form.Has("client_secret") {
			refuse("invalid_client", "want the client in the Authorization header only")
			return
		}
	case "params":
		if basic {
			refuse("invalid_client", "want the client in the body only")
			return
		}
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id != fakeClientID || secret != fakeClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	for k, want := range e.params {
		if got := form[k]; len(got) != 1 || got[0] != want {
			refuse("invalid_request", fmt.Sprintf("parameter %s = %q, want exactly %q", k, got, want))
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if got := form["refresh_token"]; len(got) != 1 || got[0] != e.refresh {
		refuse("invalid_grant", "not the current refresh token")
		return
	}
	e.serial++
	e.refresh = fmt.Sprintf("rt_FAKE_%d", e.serial)
	tok := fmt.Sprintf("at_FAKE_refreshed_%04d", e.serial)
	e.issued[tok] = true
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300, "refresh_token": e.refresh})
}

func (e *refreshEndpoint) valid(tok string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.issued[tok]
}

func (e *refreshEndpoint) revokeAll() {
	e.mu.Lock()
	e.issued = map[string]bool{}
	e.mu.Unlock()
}

// audience and endpoint_params reach the token endpoint on the
// refresh_token grant, with either auth style, and the grant's own
// parameters are not overridden by endpoint_params of the same name.
func TestOAuth2RefreshSendsAudienceAndEndpointParams(t *testing.T) {
	for _, style := range []string{"header", "params"} {
		t.Run(style, func(t *testing.T) {
			e := newRefreshEndpoint(t, style, map[string]string{
				"grant_type": "refresh_token",
				"audience":   "https://api.example.test",
				"resource":   "urn:example:payments",
				"tenant":     "acme",
			})
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || !e.valid(tok) {
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			t.Cleanup(api.Close)
			cache := checks.NewLocalTokens()
			cred := &config.Credential{Type: config.TypeOAuth2RefreshToken, TokenURL: e.URL, ClientID: fakeClientID,
				ClientSecret: config.Literal(fakeClientSecret), RefreshToken: config.Literal("rt_FAKE_0"),
				Audience: "https://api.example.test", AuthStyle: style, RefreshBefore: config.Duration(time.Minute),
				EndpointParams: map[string]string{"resource": "urn:example:payments", "tenant": "acme",
					"grant_type": "password", "refresh_token": "rt_FAKE_not_this_one"}}
			for round := 1; round <= 2; round++ {
				e.revokeAll() // the cached access token is refused: refresh again
				f := newFixture(api.URL, cred)
				f.deps.Tokens = cache
				r := f.run(t)
				if r.Cause != checks.CauseOK {
					t.Fatalf("round %d: %s: %s", round, r.Cause, r.Detail)
				}
				tok, _ := cache.LoadToken(context.Background(), "prod/cred")
				if want := fmt.Sprintf("rt_FAKE_%d", round); tok == nil || tok.RefreshToken != want {
					t.Fatalf("round %d: cached refresh token is not the rotated %s", round, want)
				}
			}
		})
	}
}

// The strict endpoint does refuse a request without them: the test above
// is not passing by accident.
func TestOAuth2RefreshEndpointRefusesMissingParams(t *testing.T) {
	e := newRefreshEndpoint(t, "header", map[string]string{"audience": "https://api.example.test"})
	cred := &config.Credential{Type: config.TypeOAuth2RefreshToken, TokenURL: e.URL, ClientID: fakeClientID,
		ClientSecret: config.Literal(fakeClientSecret), RefreshToken: config.Literal("rt_FAKE_0"), AuthStyle: "header"}
	r := newFixture(e.URL, cred).run(t)
	wantCause(t, r, checks.CauseTokenEndpointRejected)
	if !strings.Contains(r.Detail, "invalid_request") || !strings.Contains(r.Detail, "parameter audience") {
		t.Errorf("detail should carry the endpoint's invalid_request: %s", r.Detail)
	}
}

// A refused refresh keeps its RFC 6749 error, its hint and its redaction:
// an endpoint quoting the refresh token it was sent does not leak it.
func TestOAuth2RefreshRejectedIsRedacted(t *testing.T) {
	const rt = "rt_FAKE_leaky_refresh_token_0000"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "refresh token " + r.PostFormValue("refresh_token") + " was already used"})
	}))
	t.Cleanup(srv.Close)
	cred := &config.Credential{Type: config.TypeOAuth2RefreshToken, TokenURL: srv.URL, ClientID: fakeClientID,
		ClientSecret: config.Literal(fakeClientSecret), RefreshToken: config.Literal(rt), Audience: "https://api.example.test"}
	r := newFixture(srv.URL, cred).run(t)
	wantCause(t, r, checks.CauseTokenEndpointRejected)
	if !strings.Contains(r.Detail, `error="invalid_grant"`) || !strings.Contains(r.Detail, "HTTP 400") || !strings.Contains(r.Detail, "was already used") {
		t.Errorf("detail should carry the RFC 6749 error: %s", r.Detail)
	}
	if !strings.Contains(r.Hint, "run the authorization flow again") {
		t.Errorf("hint is not the refresh grant's invalid_grant hint: %s", r.Hint)
	}
	if strings.Contains(r.Detail+r.Hint, "leaky_refresh") {
		t.Errorf("refresh token leaked: %s %s", r.Detail, r.Hint)
	}
}
