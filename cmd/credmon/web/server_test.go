package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func serve(t *testing.T, src Source, reg prometheus.Gatherer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(src, reg, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestStatusAPIRoundTrip(t *testing.T) {
	want := fixtureSnapshot()
	srv := serve(t, fakeSource{snap: want}, nil)

	resp, body := do(t, http.MethodGet, srv.URL+"/api/v1/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var got Snapshot
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	// Times lose their monotonic reading and location in JSON; compare the
	// re-encoded forms, which is what a client sees.
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(&got)
	if !bytes.Equal(a, b) {
		t.Errorf("round trip changed the snapshot:\nwant %s\n got %s", a, b)
	}
	if got.Checks[3].Last == nil || got.Checks[3].Last.Challenge == nil || got.Checks[3].Last.Challenge.Error != "invalid_token" {
		t.Errorf("challenge lost in JSON: %+v", got.Checks[3].Last)
	}
	if *got.ClockOffset != *want.ClockOffset {
		t.Errorf("clock offset %v, want %v", *got.ClockOffset, *want.ClockOffset)
	}
}

func TestStatusAPISnakeCase(t *testing.T) {
	srv := serve(t, fakeSource{snap: fixtureSnapshot()}, nil)
	_, body := do(t, http.MethodGet, srv.URL+"/api/v1/status")
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"generated", "instance", "ready", "not_ready", "checks", "deadlines", "instances", "incidents", "clock_offset"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks key %q", k)
		}
	}
	check := raw["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"env", "name", "credential", "identity", "schedule", "last", "recent", "ok_ratio", "next_run", "last_run_by"} {
		if _, ok := check[k]; !ok {
			t.Errorf("check JSON lacks key %q", k)
		}
	}
}

func TestReadyz(t *testing.T) {
	ready := fixtureSnapshot()
	ready.Ready, ready.NotReady = true, nil
	resp, body := do(t, http.MethodGet, serve(t, fakeSource{snap: ready}, nil).URL+"/readyz")
	if resp.StatusCode != http.StatusOK || body != "ready\n" {
		t.Errorf("ready: %d %q", resp.StatusCode, body)
	}

	notReady := fixtureSnapshot()
	notReady.NotReady = []string{"redis unreachable", "config reload failed: config.yaml:3:1: unknown key\n  \"srever\""}
	resp, body = do(t, http.MethodGet, serve(t, fakeSource{snap: notReady}, nil).URL+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("not ready: status %d", resp.StatusCode)
	}
	want := "redis unreachable\nconfig reload failed: config.yaml:3:1: unknown key \"srever\"\n"
	if body != want {
		t.Errorf("not ready body = %q, want %q", body, want)
	}

	silent := fixtureSnapshot()
	silent.NotReady = nil
	resp, body = do(t, http.MethodGet, serve(t, fakeSource{snap: silent}, nil).URL+"/readyz")
	if resp.StatusCode != http.StatusServiceUnavailable || body != "not ready\n" {
		t.Errorf("not ready without reasons: %d %q", resp.StatusCode, body)
	}
}

func TestSnapshotErrorIsNotLeaked(t *testing.T) {
	srv := serve(t, fakeSource{err: errStoreDown}, nil)
	for _, path := range []string{"/", "/api/v1/status", "/readyz"} {
		resp, body := do(t, http.MethodGet, srv.URL+path)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", path, resp.StatusCode)
		}
		if strings.Contains(body, "10.0.0.5") {
			t.Errorf("%s: body carries the internal error: %q", path, body)
		}
	}
	// Liveness does not depend on the source.
	if resp, body := do(t, http.MethodGet, srv.URL+"/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
}

func TestRoutesAndMethods(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	srv := serve(t, fakeSource{snap: fixtureSnapshot()}, reg)

	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/", 200},
		{http.MethodHead, "/", 200},
		{http.MethodGet, "/healthz", 200},
		{http.MethodHead, "/healthz", 200},
		{http.MethodGet, "/metrics", 200},
		{http.MethodGet, "/api/v1/status", 200},
		{http.MethodGet, "/readyz", 503},
		{http.MethodGet, "/nope", 404},
		{http.MethodGet, "/index.html", 404},
		{http.MethodGet, "/api/v1/status/extra", 404},
		{http.MethodPost, "/", 405},
		{http.MethodPost, "/api/v1/status", 405},
		{http.MethodDelete, "/metrics", 405},
		{http.MethodPut, "/healthz", 405},
	} {
		resp, _ := do(t, tc.method, srv.URL+tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if resp.StatusCode == 405 && !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("%s %s: 405 without Allow: GET (%q)", tc.method, tc.path, resp.Header.Get("Allow"))
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := serve(t, fakeSource{snap: fixtureSnapshot()}, nil)
	resp, _ := do(t, http.MethodGet, srv.URL+"/")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-store",
	}
	got := map[string]string{}
	for k := range want {
		got[k] = resp.Header.Get(k)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("headers = %v, want %v", got, want)
	}
}

func TestMetricsEndpointServesGatherer(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.ObserveResult(*fixtureSnapshot().Checks[3].Last)
	_, body := do(t, http.MethodGet, serve(t, fakeSource{snap: fixtureSnapshot()}, reg).URL+"/metrics")
	if !strings.Contains(body, `credmon_check_up{check="payments-account",env="prod"} 0`) {
		t.Errorf("/metrics lacks the observed check:\n%s", body)
	}
}
