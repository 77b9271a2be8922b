package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/crypto/bcrypt"
)

// The Prometheus-style aliases answer what /healthz and /readyz answer.
func TestHealthAliases(t *testing.T) {
	notReady := fixtureSnapshot()
	notReady.NotReady = []string{"redis unreachable"}
	srv := serve(t, fakeSource{snap: notReady}, nil)
	for alias, path := range map[string]string{"/-/healthy": "/healthz", "/-/ready": "/readyz"} {
		r1, b1 := do(t, http.MethodGet, srv.URL+path)
		r2, b2 := do(t, http.MethodGet, srv.URL+alias)
		if r1.StatusCode != r2.StatusCode || b1 != b2 {
			t.Errorf("%s = %d %q, %s = %d %q", alias, r2.StatusCode, b2, path, r1.StatusCode, b1)
		}
		if r, _ := do(t, http.MethodPost, srv.URL+alias); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 405", alias, r.StatusCode)
		}
	}
	if r, b := do(t, http.MethodGet, srv.URL+"/-/ready"); r.StatusCode != http.StatusServiceUnavailable || b != "redis unreachable\n" {
		t.Errorf("/-/ready not ready: %d %q", r.StatusCode, b)
	}
}

func TestReloadEndpoint(t *testing.T) {
	t.Run("disabled", func(t *testing.T) {
		srv := serve(t, fakeSource{snap: fixtureSnapshot()}, nil)
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodGet} {
			if r, _ := do(t, m, srv.URL+"/-/reload"); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s /-/reload without the option: %d, want 404", m, r.StatusCode)
			}
		}
	})

	var calls atomic.Int32
	var fail atomic.Bool
	reload := func() error {
		calls.Add(1)
		if fail.Load() {
			return errors.Join(errors.New("config.yaml:3:1: srever: unknown field\n  did you mean server?"), errors.New("config.yaml:9:5: second problem"))
		}
		return nil
	}
	h := NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, slog.New(slog.DiscardHandler), WithReload(reload))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	if r, _ := do(t, http.MethodGet, srv.URL+"/-/reload"); r.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(r.Header.Get("Allow"), "POST") {
		t.Errorf("GET /-/reload: %d Allow %q, want 405 allowing POST", r.StatusCode, r.Header.Get("Allow"))
	}
	if calls.Load() != 0 {
		t.Fatalf("GET reloaded %d times", calls.Load())
	}
	for _, m := range []string{http.MethodPost, http.MethodPut} {
		r, body := do(t, m, srv.URL+"/-/reload")
		if r.StatusCode != http.StatusOK || body != "config reloaded\n" {
			t.Errorf("%s /-/reload: %d %q", m, r.StatusCode, body)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("reload called %d times for two requests", calls.Load())
	}

	fail.Store(true)
	r, body := do(t, http.MethodPost, srv.URL+"/-/reload")
	want := "config reload failed (the previous configuration keeps running): config.yaml:3:1: srever: unknown field\n"
	if r.StatusCode != http.StatusInternalServerError || body != want {
		t.Errorf("failed reload: %d %q, want 500 %q", r.StatusCode, body, want)
	}

	// A browser on another site may not trigger it.
	before := calls.Load()
	for name, hdr := range map[string][2]string{
		"foreign origin":   {"Origin", "https://evil.example"},
		"cross-site fetch": {"Sec-Fetch-Site", "cross-site"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/-/reload", nil)
		req.Header.Set(hdr[0], hdr[1])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/-/reload", nil)
	req.Header.Set("Origin", srv.URL)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("same-origin POST: %d, want it to reach the reload (500 here)", resp.StatusCode)
	}
	if got := calls.Load() - before; got != 1 {
		t.Errorf("reload called %d times for one same-origin and two refused requests", got)
	}
}

// The reload endpoint sits behind the web config's basic auth like every
// other endpoint.
func TestReloadEndpointBehindBasicAuth(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(fakePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	write(t, webConfig, "basic_auth_users:\n  "+fakeUser+": "+string(hash)+"\n")
	var calls atomic.Int32
	addr := listen(t, NewHandler(fakeSource{snap: fixtureSnapshot()}, nil, nil, WithReload(func() error { calls.Add(1); return nil })), ServerOptions{}, webConfig)
	post := func(user, pass string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/-/reload", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := (&http.Client{Timeout: generous}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", code)
	}
	if code := post(fakeUser, "FAKE-wrong-password"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if calls.Load() != 0 {
		t.Fatalf("unauthenticated requests reloaded %d times", calls.Load())
	}
	if code := post(fakeUser, fakePassword); code != http.StatusOK || calls.Load() != 1 {
		t.Errorf("authenticated: %d, %d reloads; want 200 and 1", code, calls.Load())
	}
}

func TestBuildInfo(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	RegisterBuildInfo(reg, "v1.2.3")
	want := `
# HELP credmon_build_info A metric with a constant '1' value labelled by the version, revision and Go version credmon was built from.
# TYPE credmon_build_info gauge
credmon_build_info{goversion="` + runtime.Version() + `",revision="` + Revision() + `",version="v1.2.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "credmon_build_info"); err != nil {
		t.Error(err)
	}
}
