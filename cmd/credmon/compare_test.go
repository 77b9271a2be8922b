package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/credmon/credmon/checks/sandbox"
)

const compareKey = "sk_live_FAKEcompare0000000000000c0a1"

// compareAPI wants `Authorization: Bearer compareKey` and answers a
// request without credentials as RFC 6750 says: a Bearer challenge and no
// error code. bindToConn makes it authenticate only a connection's first
// request, as gateways with connection-oriented authentication do.
func compareAPI(t *testing.T, bindToConn bool) *httptest.Server {
	t.Helper()
	type connKey struct{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.Context().Value(connKey{}).(*atomic.Int64).Add(1)
		auth := r.Header.Get("Authorization")
		if bindToConn && n > 1 {
			auth = ""
		}
		switch {
		case auth == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
		case auth != "Bearer "+compareKey:
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, new(atomic.Int64))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// authStrippingProxy is sandbox.StrippingProxy on loopback.
func authStrippingProxy(t *testing.T) *httptest.Server {
	t.Helper()
	px := httptest.NewServer(sandbox.StrippingProxy(nil))
	t.Cleanup(px.Close)
	return px
}

// TestExplainCompare runs `credmon explain -compare` against the two
// examples docs/diagnosis.md shows: a proxy that strips Authorization and
// a server that binds authentication to its connection.
func TestExplainCompare(t *testing.T) {
	t.Setenv("CREDMON_TEST_COMPARE_KEY", compareKey)
	api, bound, px := compareAPI(t, false), compareAPI(t, true), authStrippingProxy(t)
	path := writeConfig(t, fmt.Sprintf(`store: {driver: memory}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: CREDMON_TEST_COMPARE_KEY}}
    checks:
      - {name: via-proxy, credential: key, url: %q, proxy_url: %q}
      - {name: bound, credential: key, url: %q}
`, api.URL+"/v1/me", px.URL, bound.URL+"/v1/me"))

	for _, tc := range []struct {
		check string
		exit  int
		want  []string
	}{
		{"via-proxy", exitFailure, []string{
			"cause   unauthorized",
			"no credential arrived",
			"proxy in proxy_url (" + px.URL + ")",
			"without proxy_url",
			"Through proxy_url (" + px.URL + ") the API answers 401 unauthorized, directly 200 ok",
		}},
		{"bound", exitOK, []string{
			"cause   ok",
			"A fresh connection gets 200 ok, a reused one 401 unauthorized",
			"fresh_connection: true",
		}},
	} {
		t.Run(tc.check, func(t *testing.T) {
			r := runCLI(t, "", "explain", "-config", path, "-compare", "prod/"+tc.check)
			t.Logf("credmon explain -compare prod/%s\n%s", tc.check, r.stdout)
			if r.code != tc.exit {
				t.Errorf("exit %d, want %d\n%s", r.code, tc.exit, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			if strings.Contains(r.stdout, compareKey[8:20]) {
				t.Error("output shows the key")
			}
		})
	}
}
