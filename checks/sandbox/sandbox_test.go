package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks/sandbox"
)

func start(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	s, err := sandbox.Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

// call sends one request and checks what every sandbox response must be: a
// small JSON object with Content-Type application/json.
func call(t *testing.T, method, url string, set func(*http.Request)) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, url, ct)
	}
	r := reply{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&r.body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v", method, url, err)
	}
	return r
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func header(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(name, value) }
}

func basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

// forge builds a well-formed JWT with the sandbox's claims that the sandbox
// never issued.
func forge(s *sandbox.Sandbox) string {
	enc := base64.RawURLEncoding.EncodeToString
	claims, _ := json.Marshal(map[string]any{
		"iss": s.Issuer(), "aud": s.Audience(), "sub": sandbox.ClientID, "scope": "billing.read admin.write",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
}

func challenge(params string) string { return `Bearer realm="sandbox"` + params }

func invalidToken(desc string) string {
	return challenge(`, error="invalid_token", error_description="` + desc + `"`)
}

func TestModes(t *testing.T) {
	s := start(t)
	mint := func(sub, scope string, ttl time.Duration) string {
		return s.MintToken(sandbox.Claims{Subject: sub, Scope: scope, TTL: ttl})
	}
	billingTok := mint(sandbox.ClientID, "billing.read", time.Hour)
	adminTok := mint(sandbox.ClientID, "admin.write", time.Hour)
	unknownKey := bearer("sk_live_FAKEwrongKey0001")

	tests := []struct {
		name      string
		path      string
		set       func(*http.Request)
		status    int
		challenge string // exact WWW-Authenticate; "" means none at all
		body      map[string]any
	}{
		{"healthy key", sandbox.PathAccount, bearer(sandbox.KeyAccount), 200, "", map[string]any{"ok": true}},
		{"healthy path, wrong key", sandbox.PathAccount, unknownKey, 401, invalidToken("unknown API key"), map[string]any{"error": "invalid_token"}},
		{"healthy path, no credentials", sandbox.PathAccount, nil, 401, challenge(""), nil},
		{"healthy path, another path's key", sandbox.PathAccount, bearer(sandbox.KeyEvents), 401, invalidToken("unknown API key"), nil},

		{"key with Bearer", sandbox.PathEvents, bearer(sandbox.KeyEvents), 200, "", map[string]any{"ok": true}},
		{"key without Bearer", sandbox.PathEvents, header("Authorization", sandbox.KeyEvents), 401,
			challenge(`, error="invalid_request", error_description="missing Bearer scheme"`),
			map[string]any{"error": "invalid_request", "error_description": "missing Bearer scheme"}},
		{"key with lower-case bearer", sandbox.PathEvents, header("Authorization", "bearer "+sandbox.KeyEvents), 401,
			challenge(`, error="invalid_request", error_description="missing Bearer scheme"`), nil},

		{"valid JWT", sandbox.PathSession, bearer(mint("session-user", "session", time.Hour)), 200, "", map[string]any{"ok": true}},
		{"expired JWT", sandbox.PathSession, bearer(mint("session-user", "session", -time.Hour)), 401,
			invalidToken("The access token expired"), map[string]any{"error_description": "The access token expired"}},
		{"JWT the sandbox never issued", sandbox.PathSession, bearer(forge(s)), 401, invalidToken("unknown token"), nil},
		{"not a JWT", sandbox.PathSession, bearer("not-a-jwt"), 401, invalidToken("malformed token"), nil},
		{"JWT for another audience", sandbox.PathSession,
			bearer(s.MintToken(sandbox.Claims{Subject: "x", TTL: time.Hour, Audience: "https://api.other.example"})), 401,
			invalidToken("wrong audience"), nil},
		{"JWT from another issuer", sandbox.PathSession,
			bearer(s.MintToken(sandbox.Claims{Subject: "x", TTL: time.Hour, Issuer: "https://auth.other.example/"})), 401,
			invalidToken("wrong issuer"), nil},

		{"client token with scope", sandbox.PathBilling, bearer(billingTok), 200, "", map[string]any{"ok": true}},
		{"client token without billing scope", sandbox.PathBilling, bearer(adminTok), 403,
			challenge(`, error="insufficient_scope", scope="billing.read"`), nil},
		{"revoked client's token", sandbox.PathLedger, bearer(mint(sandbox.RevokedClientID, "billing.read", time.Hour)), 401,
			invalidToken("token revoked"), map[string]any{"error_description": "token revoked"}},
		{"live client's token on ledger", sandbox.PathLedger, bearer(billingTok), 200, "", nil},

		{"test key accepted by the API", sandbox.PathCharges, bearer(sandbox.KeyChargesTest), 200, "", map[string]any{"ok": true}},
		{"live key accepted by the API", sandbox.PathCharges, bearer(sandbox.KeyChargesLive), 200, "", nil},
		{"charges, wrong key", sandbox.PathCharges, bearer("sk_test_FAKEwrongKey0001"), 401, invalidToken("unknown API key"), nil},

		{"token lacking admin scope", sandbox.PathAdmin, bearer(billingTok), 403,
			challenge(`, error="insufficient_scope", scope="admin.write"`), map[string]any{"error": "insufficient_scope"}},
		{"token with admin scope", sandbox.PathAdmin, bearer(adminTok), 200, "", nil},
		{"admin, forged token", sandbox.PathAdmin, bearer(forge(s)), 401, invalidToken("unknown token"), nil},

		{"legacy key", sandbox.PathLegacy, header("X-API-Key", sandbox.KeyLegacy), 200, "", map[string]any{"ok": true}},
		{"legacy, wrong key: no challenge", sandbox.PathLegacy, header("X-API-Key", "lk_FAKEwrong"), 401, "", map[string]any{"error": "unauthorized"}},
		{"legacy, key in the wrong header", sandbox.PathLegacy, bearer(sandbox.KeyLegacy), 401, "", nil},

		{"skewed server, right key", sandbox.PathTime, bearer(sandbox.KeyAccount), 200, "", nil},
		{"skewed server, wrong key", sandbox.PathTime, unknownKey, 401, invalidToken("unknown API key"), nil},

		{"slack active token", sandbox.PathSlackAuthTest, bearer(sandbox.SlackTokenActive), 200, "", map[string]any{"ok": true}},
		{"slack inactive token", sandbox.PathSlackAuthTest, bearer(sandbox.SlackTokenInactive), 200, "",
			map[string]any{"ok": false, "error": "token_inactive"}},
		{"slack wrong token", sandbox.PathSlackAuthTest, bearer("xoxb-FAKEwrong"), 200, "", map[string]any{"ok": false, "error": "invalid_auth"}},
		{"slack no token", sandbox.PathSlackAuthTest, nil, 200, "", map[string]any{"ok": false, "error": "not_authed"}},

		{"basic right", sandbox.PathReports, basic(sandbox.BasicUser, sandbox.BasicPassword), 200, "", map[string]any{"ok": true}},
		{"basic wrong password", sandbox.PathReports, basic(sandbox.BasicUser, "pw_FAKEwrong"), 401, `Basic realm="sandbox", charset="UTF-8"`, nil},
		{"basic wrong user", sandbox.PathReports, basic("admin", sandbox.BasicPassword), 401, `Basic realm="sandbox", charset="UTF-8"`, nil},
		{"basic, bearer sent", sandbox.PathReports, bearer(sandbox.BasicPassword), 401, `Basic realm="sandbox", charset="UTF-8"`, nil},

		{"unknown route", "/v1/nothing-here", bearer(sandbox.KeyAccount), 404, "", map[string]any{"error": "not_found"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodGet, s.URL()+tt.path, tt.set)
			if r.status != tt.status {
				t.Errorf("status %d, want %d (body %v)", r.status, tt.status, r.body)
			}
			got := r.header.Values("WWW-Authenticate")
			switch {
			case tt.challenge == "" && len(got) > 0:
				t.Errorf("WWW-Authenticate %q, want none", got)
			case tt.challenge != "" && (len(got) != 1 || got[0] != tt.challenge):
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			for k, want := range tt.body {
				if r.body[k] != want {
					t.Errorf("body[%q] = %v, want %v (body %v)", k, r.body[k], want, r.body)
				}
			}
		})
	}
}

func TestServerDateRunsAhead(t *testing.T) {
	s := start(t)
	for _, path := range []string{sandbox.PathTime, sandbox.PathAccount} {
		before := time.Now()
		r := call(t, http.MethodGet, s.URL()+path, bearer(sandbox.KeyAccount))
		date, err := http.ParseTime(r.header.Get("Date"))
		if err != nil {
			t.Fatalf("%s: Date %q: %v", path, r.header.Get("Date"), err)
		}
		// Date has one-second resolution; the skew is five minutes, so a
		// minute either way separates "skewed" from "not" with no race.
		offset := date.Sub(before)
		skewed := offset > sandbox.ClockSkew-time.Minute && offset < sandbox.ClockSkew+time.Minute
		if wantSkew := path == sandbox.PathTime; skewed != wantSkew {
			t.Errorf("%s: Date is %v from ours; skewed=%v, want %v", path, offset.Round(time.Second), skewed, wantSkew)
		}
	}
}

func TestRotatingKey(t *testing.T) {
	s := start(t)
	status := func(key string) int { return call(t, http.MethodGet, s.URL()+sandbox.PathRotating, bearer(key)).status }

	if got := status(sandbox.KeyRotatingCurrent); got != 200 {
		t.Errorf("current key: %d, want 200", got)
	}
	if got := status(sandbox.KeyRotatingPrevious); got != 200 {
		t.Errorf("previous key during the overlap: %d, want 200", got)
	}
	if got := status("sk_live_FAKEwrongKey0001"); got != 401 {
		t.Errorf("unknown key: %d, want 401", got)
	}

	s.RevokePrevious()
	r := call(t, http.MethodGet, s.URL()+sandbox.PathRotating, bearer(sandbox.KeyRotatingPrevious))
	if want := invalidToken("API key was rolled"); r.status != 401 || r.header.Get("WWW-Authenticate") != want {
		t.Errorf("previous key after RevokePrevious: %d %q, want 401 %q", r.status, r.header.Get("WWW-Authenticate"), want)
	}
	if got := status(sandbox.KeyRotatingCurrent); got != 200 {
		t.Errorf("current key after RevokePrevious: %d, want 200", got)
	}
}

func TestStatsCountRequestsPerPath(t *testing.T) {
	s := start(t)
	for range 3 {
		call(t, http.MethodGet, s.URL()+sandbox.PathAccount, bearer(sandbox.KeyAccount))
	}
	call(t, http.MethodGet, s.URL()+sandbox.PathLegacy, nil)
	call(t, http.MethodGet, s.URL()+"/v1/nothing-here", nil)

	st := s.Stats()
	if st.Requests[sandbox.PathAccount] != 3 || st.Requests[sandbox.PathLegacy] != 1 || st.Requests[sandbox.PathReports] != 0 {
		t.Errorf("Requests = %v, want account 3, legacy 1, reports 0", st.Requests)
	}
	if len(st.Grants) != 0 {
		t.Errorf("Grants = %v, want none", st.Grants)
	}
	// Stats is a copy: changing it must not change the sandbox's counters.
	st.Requests[sandbox.PathAccount] = 100
	if got := s.Stats().Requests[sandbox.PathAccount]; got != 3 {
		t.Errorf("after editing a Stats copy, account count = %d, want 3", got)
	}
}

func TestCloseStopsServer(t *testing.T) {
	s := start(t)
	call(t, http.MethodGet, s.URL()+sandbox.PathAccount, bearer(sandbox.KeyAccount))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Close returned")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(s.URL() + sandbox.PathAccount); err == nil {
		resp.Body.Close()
		t.Fatalf("request after Close answered %d, want a connection error", resp.StatusCode)
	}
}

func TestContextEndStopsServer(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s, err := sandbox.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("server still listening 10s after its context ended")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get(s.URL() + sandbox.PathAccount); err == nil {
		resp.Body.Close()
		t.Fatalf("request after the context ended answered %d", resp.StatusCode)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q is not on loopback", s.URL())
	}
}
