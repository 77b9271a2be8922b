package checks_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

type connKey struct{}

// connBoundServer authenticates only the first request of each connection
// and sees later ones on it without their Authorization — as gateways with
// connection-oriented authentication do. It answers those as RFC 6750
// says a request without credentials gets: a Bearer challenge, no error.
func connBoundServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.Context().Value(connKey{}).(*atomic.Int64).Add(1)
		if n > 1 || r.Header.Get("Authorization") != "Bearer "+liveKey {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	srv.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, new(atomic.Int64))
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func variant(t *testing.T, cmp checks.Comparison, prefix string) checks.Variant {
	t.Helper()
	for _, v := range cmp.Variants {
		if strings.HasPrefix(v.Name, prefix) {
			return v
		}
	}
	t.Fatalf("no variant %q in %+v", prefix, cmp.Variants)
	return checks.Variant{}
}

func TestCompareProxyStripsAuthorization(t *testing.T) {
	srv := bearerServer(t)
	px, seen := strippingProxy(t)
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	f.check.ProxyURL = px.URL
	cmp := f.build(t).Compare(context.Background())
	if got := variant(t, cmp, checks.VariantConfigured).Result.Cause; got != checks.CauseUnauthorized {
		t.Errorf("as configured: %s", got)
	}
	if got := variant(t, cmp, checks.VariantNoProxy).Result.Cause; got != checks.CauseOK {
		t.Errorf("without proxy: %s", got)
	}
	if seen.Load() == 0 {
		t.Fatal("nothing went through the proxy")
	}
	if !strings.Contains(cmp.Verdict, "Through proxy_url ("+px.URL) || !strings.Contains(cmp.Verdict, "directly 200 ok") {
		t.Errorf("verdict = %s", cmp.Verdict)
	}
	if strings.Contains(cmp.Verdict, "reused one") {
		t.Errorf("verdict blames the connection: %s", cmp.Verdict)
	}
	if v := variant(t, cmp, checks.VariantHTTP2); v.Skipped == "" {
		t.Errorf("HTTP/2 over http:// was not skipped: %+v", v)
	}
}

func TestCompareAuthBoundToConnection(t *testing.T) {
	srv := connBoundServer(t)
	cmp := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey))).build(t).Compare(context.Background())
	fresh, reused := variant(t, cmp, checks.VariantFresh), variant(t, cmp, checks.VariantReused)
	if fresh.Result.Cause != checks.CauseOK || fresh.Reused {
		t.Errorf("fresh: %s reused=%v", fresh.Result.Cause, fresh.Reused)
	}
	if reused.Result.Cause != checks.CauseUnauthorized || !reused.Reused {
		t.Errorf("reused: %s reused=%v", reused.Result.Cause, reused.Reused)
	}
	if !strings.Contains(cmp.Verdict, "binds authentication to the connection") || !strings.Contains(cmp.Verdict, "fresh_connection: true") {
		t.Errorf("verdict = %s", cmp.Verdict)
	}
}

func TestCompareFormTheChallengeAsks(t *testing.T) {
	srv := bearerServer(t)
	cred := apiKeyCred(config.Literal(liveKey))
	cred.Header = "X-API-Key"
	cmp := newFixture(srv.URL, cred).build(t).Compare(context.Background())
	base := variant(t, cmp, checks.VariantConfigured)
	if base.Result.Cause != checks.CauseMalformedCredential {
		t.Errorf("as configured: %s (%s)", base.Result.Cause, base.Result.Detail)
	}
	ch := variant(t, cmp, checks.VariantChallenge)
	if ch.Result.Cause != checks.CauseOK || ch.Form != "Authorization: Bearer <key>" {
		t.Errorf("challenge form: %s %q", ch.Result.Cause, ch.Form)
	}
	if !strings.Contains(cmp.Verdict, "Sent as the challenge asks (Authorization: Bearer <key>) the API answers 200 ok") {
		t.Errorf("verdict = %s", cmp.Verdict)
	}
}

// TestCompareHTTP2LosesAuthorization: behind this API's front end a
// request that arrives over HTTP/2 reaches the application without its
// Authorization (a header lost in translating HTTP/2 to HTTP/1.1).
func TestCompareHTTP2LosesAuthorization(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if r.ProtoMajor == 2 {
			auth = ""
		}
		if auth != "Bearer "+liveKey {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := t.TempDir() + "/ca.pem"
	writeFile(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	f := newFixture(srv.URL, apiKeyCred(config.Literal(liveKey)))
	f.check.TLS = &config.TLS{CAFile: ca}
	cmp := f.build(t).Compare(context.Background())
	h1, h2 := variant(t, cmp, checks.VariantHTTP1), variant(t, cmp, checks.VariantHTTP2)
	if h1.Proto != "HTTP/1.1" || h1.Result.Cause != checks.CauseOK {
		t.Errorf("HTTP/1.1 variant: %s %s", h1.Proto, h1.Result.Cause)
	}
	if h2.Proto != "HTTP/2.0" || h2.Result.Cause != checks.CauseUnauthorized {
		t.Errorf("HTTP/2 variant: %s %s", h2.Proto, h2.Result.Cause)
	}
	if !strings.Contains(cmp.Verdict, "HTTP/1.1 gets 200 ok, HTTP/2 401 unauthorized") {
		t.Errorf("verdict = %s", cmp.Verdict)
	}
}
