package checks_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/sandbox"
)

// bearerServer is a resource server that wants `Authorization: Bearer
// liveKey` and answers as Spring Security's and ASP.NET Core's resource
// servers do: no Authorization at all gets a Bearer challenge without an
// error code (RFC 6750 §3.1); a value without the Bearer scheme gets 400
// invalid_request; a wrong token gets 401 invalid_token.
func bearerServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.Header.Get("Authorization")
		tok, bearer := strings.CutPrefix(v, "Bearer ")
		switch {
		case v == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
		case !bearer:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_request", error_description="Bearer token is malformed"`)
			w.WriteHeader(http.StatusBadRequest)
		case tok != liveKey:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="unknown key"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func findingOf(r checks.Result, c checks.Cause) *checks.Finding {
	for i := range r.Findings {
		if r.Findings[i].Cause == c {
			return &r.Findings[i]
		}
	}
	return nil
}

func TestAuthAnswerThatIsNot401(t *testing.T) {
	srv := bearerServer(t)
	t.Run("400 invalid_request, key sent without scheme", func(t *testing.T) {
		cred := apiKeyCred(config.Literal(liveKey))
		cred.Scheme = strp("")
		r := newFixture(srv.URL, cred).run(t)
		wantCause(t, r, checks.CauseMalformedCredential)
		if r.HTTPStatus != 400 || !strings.Contains(r.Detail, "400 Bad Request with a Bearer challenge") || !strings.Contains(r.Detail, "no authentication scheme") {
			t.Errorf("detail = %s", r.Detail)
		}
		if !strings.Contains(r.Hint, "`scheme: Bearer`") {
			t.Errorf("hint = %s", r.Hint)
		}
		if len(r.Findings) != 0 {
			t.Errorf("the scheme finding repeats the cause: %+v", r.Findings)
		}
	})
	t.Run("same key with its scheme", func(t *testing.T) {
		r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseOK)
		if len(r.Findings) != 0 {
			t.Errorf("findings = %+v", r.Findings)
		}
	})
	t.Run("403 with invalid_token is an authentication answer", func(t *testing.T) {
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="signature verification failed"`)
			w.WriteHeader(http.StatusForbidden)
		}))
		defer gw.Close()
		wantCause(t, newFixture(gw.URL, apiKeyCred(config.Literal(liveKey))).run(t), checks.CauseInvalidToken)
	})
	t.Run("several challenges in one header", func(t *testing.T) {
		multi := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
				t.Errorf("got Authorization %q", r.Header.Get("Authorization"))
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="api", Bearer realm="api", error="invalid_token", error_description="The access token expired"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer multi.Close()
		r := newFixture(multi.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseTokenExpired)
		if r.Challenge == nil || !r.Challenge.Is("Bearer") {
			t.Errorf("challenge = %+v", r.Challenge)
		}
	})
	t.Run("only other schemes offered", func(t *testing.T) {
		// RFC 9110 §11.6.1's own example header.
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer other.Close()
		r := newFixture(other.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseMalformedCredential)
		if !strings.Contains(r.Detail, "Newauth, Basic") || !strings.Contains(r.Detail, "scheme Bearer") {
			t.Errorf("detail = %s", r.Detail)
		}
	})
}

func TestSchemelessAuthorizationAccepted(t *testing.T) {
	raw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != liveKey {
			w.Header().Set("WWW-Authenticate", `Bearer realm="raw"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer raw.Close()
	cred := apiKeyCred(config.Literal(liveKey))
	cred.Scheme = strp("")
	r := newFixture(raw.URL, cred).run(t)
	wantCause(t, r, checks.CauseOK)
	f := findingOf(r, checks.CauseMalformedCredential)
	if f == nil || f.Status != checks.StatusWarn {
		t.Fatalf("findings = %+v, want a warn-level malformed_credential", r.Findings)
	}
	if r.Status != checks.StatusWarn {
		t.Errorf("status = %s, want warn", r.Status)
	}
	if strings.Contains(f.Detail, liveKey[8:20]) || !strings.Contains(f.Detail, "sk_live_…a1b2") {
		t.Errorf("finding detail = %s", f.Detail)
	}
}

// strippingProxy is sandbox.StrippingProxy on loopback, and how many
// requests it forwarded.
func strippingProxy(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var seen atomic.Int64
	px := httptest.NewServer(sandbox.StrippingProxy(&seen))
	t.Cleanup(px.Close)
	return px, &seen
}

func TestCredentialDroppedOnTheWay(t *testing.T) {
	srv := bearerServer(t)
	px, seen := strippingProxy(t)
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	f.check.ProxyURL = px.URL
	r := f.run(t)
	wantCause(t, r, checks.CauseUnauthorized)
	if seen.Load() == 0 {
		t.Fatal("the request did not go through the proxy")
	}
	if !strings.Contains(r.Detail, "no credential arrived") || !strings.Contains(r.Hint, "proxy_url ("+px.URL) {
		t.Errorf("detail = %s\nhint = %s", r.Detail, r.Hint)
	}
	// Without the proxy the same key works: the proxy is the difference.
	wantCause(t, newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t), checks.CauseOK)

	t.Run("missing_token code, no proxy", func(t *testing.T) {
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"No Authorization header was found"}`)
		}))
		defer gw.Close()
		r := newFixture(gw.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseUnauthorized)
		if !strings.Contains(r.Hint, "gateway") || strings.Contains(r.Hint, "proxy_url (") {
			t.Errorf("hint = %s", r.Hint)
		}
	})
}

// grantErrorEndpoint answers every grant with one RFC 6749 §5.2 error, as
// the named server does.
func grantErrorEndpoint(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("grant_type") == "" {
			t.Errorf("no grant_type in the token request")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestTokenEndpointErrorsInTheirOwnTerms(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		audience string
		hint     []string
	}{
		{"invalid_client", 401, `{"error":"invalid_client","error_description":"Client authentication failed"}`, "", []string{"client credmon-test or its secret", "auth_style"}},
		{"invalid_grant", 400, `{"error":"invalid_grant","error_description":"Invalid client credentials grant"}`, "", []string{"refused the grant itself"}},
		{"auth0 grant not allowed", 403, `{"error":"unauthorized_client","error_description":"Grant type 'client_credentials' not allowed for the client.","error_uri":"https://auth0.com/docs/clients/client-grant-types"}`, "", []string{"not allowed the client_credentials grant", "enable it for this client"}},
		{"okta grant not allowed", 400, `{"error":"unauthorized_client","error_description":"The client is not authorized to use the provided grant type. Configured grant types: [authorization_code]."}`, "", []string{"client_credentials grant"}},
		{"keycloak service accounts", 400, `{"error":"unauthorized_client","error_description":"Client not enabled to retrieve service account"}`, "", []string{"client_credentials grant"}},
		{"invalid_scope", 400, `{"error":"invalid_scope","error_description":"One or more scopes are not configured for the authorization server resource."}`, "", []string{"billing.read billing.write"}},
		{"invalid_target", 400, `{"error":"invalid_target","error_description":"The requested resource is invalid, missing, unknown, or malformed."}`, "https://api.unknown.example", []string{"audience https://api.unknown.example", "invalid_target"}},
		{"azure invalid_resource", 400, `{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://api.unknown.example was not found in the tenant."}`, "https://api.unknown.example", []string{"audience https://api.unknown.example"}},
		{"unsupported_grant_type", 400, `{"error":"unsupported_grant_type","error_description":"Unsupported grant_type"}`, "", []string{"grant_type=client_credentials", "token endpoint (not the authorize endpoint)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := authAPI(t, "Bearer never-reached", nil)
			cred := &config.Credential{Type: config.TypeOAuth2ClientCredentials, TokenURL: grantErrorEndpoint(t, tc.status, tc.body),
				ClientID: fakeClientID, ClientSecret: config.Literal(fakeClientSecret), Scopes: []string{"billing.read", "billing.write"}, Audience: tc.audience}
			r := newFixture(api.URL, cred).run(t)
			wantCause(t, r, checks.CauseTokenEndpointRejected)
			for _, w := range tc.hint {
				if !strings.Contains(r.Hint, w) {
					t.Errorf("hint lacks %q: %s", w, r.Hint)
				}
			}
			if strings.Contains(r.Hint, "Check token_url, client_id and the client secret") {
				t.Errorf("generic hint: %s", r.Hint)
			}
		})
	}
}

// opaqueIssuer issues a JWT access token only when an audience is
// requested, an opaque one otherwise — as Auth0 does.
func opaqueIssuer(t *testing.T, grants *atomic.Int64) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		grants.Add(1)
		tok := "FAKEopaqueAccessToken0000000000"
		if aud := r.PostFormValue("audience"); aud != "" {
			tok = fakeJWT(t, map[string]any{"aud": aud, "exp": time.Now().Add(time.Hour).Unix()})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// jwtAPI answers as Spring Security's JWT resource server does to a token
// that is not a JWT at all.
func jwtAPI(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if strings.Count(tok, ".") != 2 {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: Malformed token", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestOpaqueTokenWhereJWTExpected(t *testing.T) {
	var grants atomic.Int64
	issuer, api := opaqueIssuer(t, &grants), jwtAPI(t)
	cred := &config.Credential{Type: config.TypeOAuth2ClientCredentials, TokenURL: issuer, ClientID: fakeClientID, ClientSecret: config.Literal(fakeClientSecret)}
	r := newFixture(api, cred).run(t)
	wantCause(t, r, checks.CauseInvalidToken)
	if !strings.Contains(r.Detail, "opaque token") || !strings.Contains(r.Hint, "`audience:`") {
		t.Errorf("detail = %s\nhint = %s", r.Detail, r.Hint)
	}
	if n := grants.Load(); n != 1 {
		t.Errorf("%d grants: a second opaque token cannot help, so none should be fetched", n)
	}
	cred2 := &config.Credential{Type: config.TypeOAuth2ClientCredentials, TokenURL: issuer, ClientID: fakeClientID, ClientSecret: config.Literal(fakeClientSecret), Audience: "https://api.example.com"}
	wantCause(t, newFixture(api, cred2).run(t), checks.CauseOK)
}

// clockServer validates a JWT's exp by its own clock, skewed by skew, with
// a 30 s leeway, and says so in its Date header — a resource server on a
// host whose NTP has drifted.
func clockServer(t *testing.T, skew time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().Add(skew)
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		parts := strings.Split(tok, ".")
		var claims struct {
			Exp int64 `json:"exp"`
		}
		if len(parts) == 3 {
			if b, err := jwtPart(parts[1]); err == nil {
				_ = json.Unmarshal(b, &claims)
			}
		}
		if claims.Exp == 0 || now.After(time.Unix(claims.Exp, 0).Add(30*time.Second)) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="Jwt expired at `+time.Unix(claims.Exp, 0).UTC().Format(time.RFC3339)+`"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRejectedJWTExplainedByTime(t *testing.T) {
	tok := fakeJWT(t, map[string]any{"iss": "https://auth.example.com/", "exp": time.Now().Add(2 * time.Minute).Unix()})
	t.Run("server clock ahead", func(t *testing.T) {
		r := newFixture(clockServer(t, 5*time.Minute), bearerCred(config.Literal(tok))).run(t)
		wantCause(t, r, checks.CauseTokenExpired)
		for _, w := range []string{"By our clock the token is valid for another", "by the server's (its Date is 5m ahead of ours) it expired 3m", "beyond the usual 30–60 s leeway: that is why"} {
			if !strings.Contains(r.Hint, w) {
				t.Errorf("hint lacks %q: %s", w, r.Hint)
			}
		}
		if !hasFinding(r, checks.CauseServerClockSkew) {
			t.Errorf("no server_clock_skew finding: %+v", r.Findings)
		}
	})
	t.Run("NTP says the server is off", func(t *testing.T) {
		f := newFixture(clockServer(t, 5*time.Minute), bearerCred(config.Literal(tok)))
		f.deps.ClockOffset = func() (time.Duration, bool) { return 0, true }
		r := f.run(t)
		if !strings.Contains(r.Hint, "The server's clock is 5m ahead of NTP time: it is the one to fix") {
			t.Errorf("hint = %s", r.Hint)
		}
	})
	t.Run("clocks agree", func(t *testing.T) {
		expired := fakeJWT(t, map[string]any{"exp": time.Now().Add(-10 * time.Minute).Unix()})
		r := newFixture(clockServer(t, 0), bearerCred(config.Literal(expired))).run(t)
		wantCause(t, r, checks.CauseTokenExpired)
		if !strings.Contains(r.Hint, "inside the usual 30–60 s leeway") || strings.Contains(r.Hint, "that is why") {
			t.Errorf("hint = %s", r.Hint)
		}
	})
}

func jwtPart(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
