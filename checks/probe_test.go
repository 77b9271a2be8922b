package checks_test

import (
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

func TestProbeOK(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
	wantCause(t, r, checks.CauseOK)
	if r.HTTPStatus != 200 {
		t.Errorf("http_status = %d", r.HTTPStatus)
	}
	if r.Identity != "api_key Authorization: Bearer sk_live_…a1b2" {
		t.Errorf("identity = %q", r.Identity)
	}
}

func TestProbeCustomHeaderWithoutScheme(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != liveKey || r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}))
	defer srv.Close()
	cred := apiKeyCred(config.Literal(liveKey))
	cred.Header = "X-API-Key"
	wantCause(t, newFixture(srv.URL, cred).run(t), checks.CauseOK)
}

func TestProbeBasic(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "svc-credmon" || p != "FAKE-password-0000" {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	good := &config.Credential{Type: config.TypeBasic, Username: "svc-credmon", Secret: config.Literal("FAKE-password-0000")}
	wantCause(t, newFixture(srv.URL, good).run(t), checks.CauseOK)
	bad := &config.Credential{Type: config.TypeBasic, Username: "svc-credmon", Secret: config.Literal("FAKE-password-9999")}
	r := newFixture(srv.URL, bad).run(t)
	wantCause(t, r, checks.CauseUnauthorized)
	if r.Challenge == nil || !strings.EqualFold(r.Challenge.Scheme, "basic") || r.Challenge.Realm != "fake" {
		t.Errorf("challenge = %+v", r.Challenge)
	}
}

func TestProbeMissingCredential(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	t.Run("empty env var", func(t *testing.T) {
		t.Setenv("CREDMON_TEST_EMPTY_KEY", "")
		r := newFixture(srv.URL, apiKeyCred(config.FromEnv("CREDMON_TEST_EMPTY_KEY"))).run(t)
		wantCause(t, r, checks.CauseMissingCredential)
		if !strings.Contains(r.Detail, "CREDMON_TEST_EMPTY_KEY") {
			t.Errorf("detail should name the variable: %s", r.Detail)
		}
	})
	t.Run("unset env var", func(t *testing.T) {
		r := newFixture(srv.URL, apiKeyCred(config.FromEnv("CREDMON_TEST_NEVER_SET_KEY"))).run(t)
		wantCause(t, r, checks.CauseMissingCredential)
	})
	t.Run("missing file", func(t *testing.T) {
		r := newFixture(srv.URL, apiKeyCred(config.FromFile(t.TempDir()+"/nope"))).run(t)
		wantCause(t, r, checks.CauseMissingCredential)
	})
	t.Run("no credential on a protected API", func(t *testing.T) {
		r := newFixture(srv.URL, nil).run(t)
		wantCause(t, r, checks.CauseMissingCredential)
	})
}

func TestProbeMalformedCredential(t *testing.T) {
	var hits atomic.Int64 // the credential must never reach this server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	cases := []struct {
		name   string
		secret string
		env    string // variable name, when the case is about it
		scheme *string
		want   string // in the detail
	}{
		{name: "trailing newline", secret: liveKey + "\n", want: "newline"},
		{name: "trailing CRLF", secret: liveKey + "\r\n", want: "newline"},
		{name: "leading space", secret: " " + liveKey, want: "whitespace"},
		{name: "trailing tab", secret: liveKey + "\t", want: "whitespace"},
		{name: "double quotes", secret: `"` + liveKey + `"`, want: "quotes"},
		{name: "single quotes", secret: `'` + liveKey + `'`, want: "quotes"},
		{name: "scheme inside secret", secret: "Bearer " + liveKey, want: "scheme"},
		{name: "inner whitespace", secret: "sk_live_FAKE0000 00000000a1b2", want: "whitespace inside"},
		{name: "lowercase scheme", secret: liveKey, scheme: strp("bearer"), want: `"bearer"`},
		{name: "scheme with colon", secret: liveKey, scheme: strp("Bearer:"), want: `"Bearer:"`},
		{name: "double space", secret: liveKey, scheme: strp("Bearer "), want: "double space"},
		{name: "NEXT_PUBLIC_", secret: liveKey, env: "NEXT_PUBLIC_PAYMENTS_KEY", want: "NEXT_PUBLIC_PAYMENTS_KEY"},
		{name: "VITE_", secret: liveKey, env: "VITE_PAYMENTS_KEY", want: "VITE_PAYMENTS_KEY"},
		{name: "REACT_APP_", secret: liveKey, env: "REACT_APP_PAYMENTS_KEY", want: "REACT_APP_PAYMENTS_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			secret := config.Literal(tc.secret)
			if tc.env != "" {
				t.Setenv(tc.env, tc.secret)
				secret = config.FromEnv(tc.env)
			}
			cred := apiKeyCred(secret)
			cred.Scheme = tc.scheme
			before := hits.Load()
			r := newFixture(srv.URL, cred).run(t)
			wantCause(t, r, checks.CauseMalformedCredential)
			if !strings.Contains(r.Detail, tc.want) {
				t.Errorf("detail %q does not say %q", r.Detail, tc.want)
			}
			if strings.Contains(r.Detail+r.Hint, "FAKE0000") {
				t.Errorf("the secret leaked into the result: %s / %s", r.Detail, r.Hint)
			}
			if hits.Load() != before {
				t.Errorf("a malformed credential was sent")
			}
		})
	}
}

func TestProbeFileSecretNewlineIsStripped(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	path := t.TempDir() + "/key"
	writeFile(t, path, liveKey+"\n")
	wantCause(t, newFixture(srv.URL, apiKeyCred(config.FromFile(path))).run(t), checks.CauseOK)
}

func TestProbeUnauthorized(t *testing.T) {
	// A Bearer challenge without an error code would say no credential
	// arrived (RFC 6750 §3.1); a code credmon does not know says nothing.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="access_denied"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
	wantCause(t, r, checks.CauseUnauthorized)
	if hasFinding(r, checks.CauseMissingChallenge) {
		t.Error("missing_challenge reported although a challenge was sent")
	}
	if !strings.Contains(r.Hint, "sk_live_…a1b2") {
		t.Errorf("hint should name the key's identity: %s", r.Hint)
	}
}

func TestProbeInvalidToken(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	r := newFixture(srv.URL, apiKeyCred(config.Literal("sk_live_FAKE9999999999999999zzzz"))).run(t)
	wantCause(t, r, checks.CauseInvalidToken)
	if r.Challenge == nil || r.Challenge.Error != "invalid_token" || r.Challenge.ErrorDescription != "unknown key" {
		t.Errorf("challenge = %+v", r.Challenge)
	}
	if !strings.Contains(r.Detail, "unknown key") {
		t.Errorf("detail should quote the server: %s", r.Detail)
	}
}

func TestProbeTokenExpired(t *testing.T) {
	t.Run("by our clock", func(t *testing.T) {
		tok := fakeJWT(t, map[string]any{"iss": "https://auth.example.com/", "exp": time.Now().Add(-3 * time.Hour).Unix()})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+tok {
				t.Errorf("server got the wrong token")
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer srv.Close()
		r := newFixture(srv.URL, bearerCred(config.Literal(tok))).run(t)
		wantCause(t, r, checks.CauseTokenExpired)
		if !strings.Contains(r.Detail, "3h ago") {
			t.Errorf("detail should say when: %s", r.Detail)
		}
		if r.Token == nil || r.Token.ExpiresAt == nil || r.Token.Issuer != "https://auth.example.com/" {
			t.Errorf("token claims not reported: %+v", r.Token)
		}
	})
	t.Run("server says", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token", error_description="The access token expired"`)
			w.WriteHeader(http.StatusUnauthorized)
		}))
		defer srv.Close()
		r := newFixture(srv.URL, bearerCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseTokenExpired)
	})
}

func TestProbeForbidden(t *testing.T) {
	t.Run("insufficient_scope", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="billing.write"`)
			w.WriteHeader(http.StatusForbidden)
		})
		r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseInsufficientScope)
		if !strings.Contains(r.Hint, "billing.write") {
			t.Errorf("hint should name the scope: %s", r.Hint)
		}
	})
	t.Run("plain 403", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		})
		wantCause(t, newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t), checks.CauseForbidden)
	})
}

func TestProbeWrongEnvironment(t *testing.T) {
	var hits atomic.Int64 // the credential must never reach this server
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	t.Run("key prefix", func(t *testing.T) {
		cred := apiKeyCred(config.Literal(testKey))
		cred.ExpectPrefix = []string{"sk_live_"}
		r := newFixture(srv.URL, cred).run(t)
		wantCause(t, r, checks.CauseWrongEnvironment)
		if !strings.Contains(r.Detail, "sk_test_") {
			t.Errorf("detail should name the prefix found: %s", r.Detail)
		}
	})
	t.Run("issuer", func(t *testing.T) {
		f := newFixture(srv.URL, bearerCred(config.Literal(fakeJWT(t, map[string]any{
			"iss": "https://auth.staging.example.com/", "aud": "https://api.example.com", "exp": time.Now().Add(time.Hour).Unix()}))))
		f.expect = config.EnvExpect{Issuer: "https://auth.example.com/", Audience: "https://api.example.com"}
		r := f.run(t)
		wantCause(t, r, checks.CauseWrongEnvironment)
		if !strings.Contains(r.Detail, "auth.staging.example.com") {
			t.Errorf("detail: %s", r.Detail)
		}
	})
	t.Run("audience", func(t *testing.T) {
		f := newFixture(srv.URL, bearerCred(config.Literal(fakeJWT(t, map[string]any{
			"iss": "https://auth.example.com", "aud": []string{"https://api.staging.example.com"}, "exp": time.Now().Add(time.Hour).Unix()}))))
		f.expect = config.EnvExpect{Issuer: "https://auth.example.com/", Audience: "https://api.example.com"}
		wantCause(t, f.run(t), checks.CauseWrongEnvironment)
	})
	if n := hits.Load(); n != 0 {
		t.Errorf("a wrong-environment credential was sent %d times", n)
	}
}

func TestProbeMissingChallenge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
	wantCause(t, r, checks.CauseUnauthorized)
	if !hasFinding(r, checks.CauseMissingChallenge) {
		t.Errorf("missing_challenge not reported: %+v", r.Findings)
	}
}

func TestProbeServerClockSkew(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(5*time.Minute).UTC().Format(http.TimeFormat))
	})
	r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
	wantCause(t, r, checks.CauseOK)
	if !hasFinding(r, checks.CauseServerClockSkew) || r.Status != checks.StatusWarn {
		t.Fatalf("server_clock_skew not reported: %+v", r.Findings)
	}
	if r.ServerTimeOffset < 4*time.Minute || r.ServerTimeOffset > 6*time.Minute {
		t.Errorf("server_time_offset = %s, want about 5m", r.ServerTimeOffset)
	}
	// A server in step is not reported.
	inStep := authAPI(t, "Bearer "+liveKey, nil)
	if r := newFixture(inStep.URL, apiKeyCred(config.Literal(liveKey))).run(t); hasFinding(r, checks.CauseServerClockSkew) {
		t.Errorf("skew reported for a server in step: %+v", r.Findings)
	}
}

func TestProbeUnexpectedStatus(t *testing.T) {
	t.Run("503", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
		r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseUnexpectedStatus)
		if r.HTTPStatus != 503 {
			t.Errorf("http_status = %d", r.HTTPStatus)
		}
	})
	t.Run("404", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) })
		wantCause(t, newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t), checks.CauseUnexpectedStatus)
	})
	t.Run("200 ok:false", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ok": false, "warning": "deprecated"}`))
		})
		f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
		f.check.Expect.JSON = map[string]any{"ok": true}
		r := f.run(t)
		wantCause(t, r, checks.CauseUnexpectedStatus)
		if !strings.Contains(r.Detail, `"ok" is false`) {
			t.Errorf("detail: %s", r.Detail)
		}
	})
	t.Run("200 ok:false with an auth error", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ok": false, "error": "token_revoked"}`))
		})
		f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
		f.check.Expect.JSON = map[string]any{"ok": true}
		wantCause(t, f.run(t), checks.CauseRevoked)
	})
	t.Run("expected status set", func(t *testing.T) {
		srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
		f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
		f.check.Expect.Status = []int{200}
		wantCause(t, f.run(t), checks.CauseUnexpectedStatus)
		f.check.Expect.Status = []int{200, 204}
		wantCause(t, f.run(t), checks.CauseOK)
	})
}

func TestProbeUnreachable(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := newFixture("http://"+addr+"/", apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseUnreachable)
		if !strings.Contains(r.Detail, "could not connect") {
			t.Errorf("detail: %s", r.Detail)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)
		f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
		f.check.Timeout = config.Duration(200 * time.Millisecond)
		r := f.run(t)
		wantCause(t, r, checks.CauseUnreachable)
		if !strings.Contains(r.Detail, "did not answer within 200ms") {
			t.Errorf("detail: %s", r.Detail)
		}
	})
	t.Run("tls", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is the point
		srv.StartTLS()
		defer srv.Close()
		r := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).run(t)
		wantCause(t, r, checks.CauseUnreachable)
		if !strings.Contains(r.Detail, "TLS") {
			t.Errorf("detail: %s", r.Detail)
		}
	})
}

func TestProbeRefusesPlainHTTPToRemoteHost(t *testing.T) {
	r := newFixture("http://api.credmon-test.invalid/", apiKeyCred(config.Literal(liveKey))).run(t)
	if r.Status == checks.StatusOK || !strings.Contains(r.Detail, "plain http") {
		t.Fatalf("credential would be sent over plain http: %+v", r)
	}
}

func TestProbeRedirectToOtherHostDoesNotForwardCredential(t *testing.T) {
	leaked := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked <- r.Header.Get("Authorization") + r.Header.Get("X-API-Key")
	}))
	defer other.Close()
	// 127.0.0.1 vs localhost: another host by name, still loopback.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	srv := authAPI(t, "Bearer "+liveKey, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+"/landing", http.StatusFound)
	})
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	f.check.FollowRedirects = true
	r := f.run(t)
	wantCause(t, r, checks.CauseUnexpectedStatus)
	if !strings.Contains(r.Detail, "does not forward credentials") {
		t.Errorf("detail: %s", r.Detail)
	}
	select {
	case got := <-leaked:
		t.Fatalf("the other host was contacted (credential header %q)", got)
	default:
	}
}

func TestProbeRedirectSameHostFollowed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+liveKey {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := newFixture(srv.URL+"/old", apiKeyCred(config.Literal(liveKey)))
	wantCause(t, f.run(t), checks.CauseUnexpectedStatus) // not followed by default
	f.check.FollowRedirects = true
	wantCause(t, f.run(t), checks.CauseOK)
}

func TestProbeKeyWithoutBearerScheme(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="missing Bearer scheme"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	cred := apiKeyCred(config.Literal(liveKey))
	cred.Scheme = strp("")
	r := newFixture(srv.URL, cred).run(t)
	wantCause(t, r, checks.CauseMalformedCredential)
	if !strings.Contains(r.Hint, "scheme: Bearer") {
		t.Errorf("hint: %s", r.Hint)
	}
}

func TestProbeFutureIssuedAtIsExplainedAsSkew(t *testing.T) {
	tok := fakeJWT(t, map[string]any{"iat": time.Now().Add(10 * time.Minute).Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+tok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="token used before issued"`)
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	r := newFixture(srv.URL, bearerCred(config.Literal(tok))).run(t)
	wantCause(t, r, checks.CauseInvalidToken)
	if !strings.Contains(r.Hint, "iat (issued at)") || !strings.Contains(r.Hint, "clock") {
		t.Errorf("hint does not explain skew: %s", r.Hint)
	}
}

func TestProbeTrustsAPrivateCA(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+liveKey {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	ca := t.TempDir() + "/ca.pem"
	writeFile(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	wantCause(t, f.run(t), checks.CauseUnreachable) // the system roots do not know it
	f.check.TLS = &config.TLS{CAFile: ca}
	wantCause(t, f.run(t), checks.CauseOK)
}
