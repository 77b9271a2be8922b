package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

const fakeKey = "sk_live_FAKEdaemon000000000000d1e2"

// api accepts only fakeKey and reports each request on hits.
func api(t *testing.T, hits chan<- string, hold <-chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			select {
			case hits <- r.URL.Path:
			default:
			}
		}
		if hold != nil {
			<-hold
		}
		if r.Header.Get("Authorization") != "Bearer "+fakeKey {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeConfig(t *testing.T, path, url string, checkNames ...string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "store: {driver: memory}\nscheduler: {schedule: \"@every 1s\"}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_KEY}}\n    checks:\n")
	for _, n := range checkNames {
		fmt.Fprintf(&b, "      - {name: %s, credential: key, url: %q}\n", n, url+"/"+n)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

type running struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
	d      *daemon.Daemon
}

func start(t *testing.T, opts daemon.Options) *running {
	t.Helper()
	t.Setenv("CREDMON_DAEMON_TEST_KEY", fakeKey)
	opts.Listen = "127.0.0.1:0"
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ready := make(chan string, 1)
	opts.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	d, err := daemon.New(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("New: %v", err)
	}
	r := &running{cancel: cancel, done: make(chan error, 1), d: d}
	go func() { r.done <- d.Serve(ctx) }()
	select {
	case r.addr = <-ready:
	case err := <-r.done:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDaemonProbesAndServes(t *testing.T) {
	srv := api(t, nil, nil)
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, srv.URL, "alpha", "beta")
	results := make(chan checks.Result, 16)
	r := start(t, daemon.Options{ConfigPath: path, OnResult: func(res checks.Result) { results <- res }})
	seen := map[string]checks.Result{}
	for len(seen) < 2 {
		res := <-results
		seen[res.Check] = res
	}
	for name, res := range seen {
		if res.Cause != checks.CauseOK {
			t.Errorf("%s: %s %s", name, res.Cause, res.Detail)
		}
		if res.Tick.Truncate(time.Second) != res.Tick {
			t.Errorf("%s: tick %s is not aligned to the @every 1s schedule", name, res.Tick)
		}
	}
	code, body := get(t, "http://"+r.addr+"/api/v1/status")
	if code != 200 || !strings.Contains(body, `"name": "alpha"`) && !strings.Contains(body, `"name":"alpha"`) {
		t.Fatalf("status API: %d %s", code, body)
	}
	if code, _ := get(t, "http://"+r.addr+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, "http://"+r.addr+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %s", code, body)
	}
	_, metrics := get(t, "http://"+r.addr+"/metrics")
	if !strings.Contains(metrics, `credmon_check_results_total{cause="ok",check="alpha",env="prod"}`) {
		t.Errorf("metrics lack the result counter")
	}
	if strings.Contains(metrics, "FAKEdaemon") || strings.Contains(body, "FAKEdaemon") {
		t.Errorf("the key leaked into metrics or the status API")
	}
}

func TestDaemonReloadKeepsOldConfigOnError(t *testing.T) {
	srv := api(t, nil, nil)
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, srv.URL, "alpha")
	r := start(t, daemon.Options{ConfigPath: path, WatchInterval: -1})

	if err := os.WriteFile(path, []byte("environments: {prod: {checks: [{name: x, scheudle: nope}]}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.d.Reload("test"); err == nil {
		t.Fatal("an invalid config reloaded without error")
	}
	code, body := get(t, "http://"+r.addr+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "config reload failed") {
		t.Errorf("/readyz after a failed reload = %d %q", code, body)
	}
	_, status := get(t, "http://"+r.addr+"/api/v1/status")
	if !strings.Contains(status, "alpha") {
		t.Errorf("the old configuration stopped running: %s", status)
	}
	_, metrics := get(t, "http://"+r.addr+"/metrics")
	if !strings.Contains(metrics, "credmon_config_last_reload_successful 0") {
		t.Errorf("reload failure not in metrics")
	}

	writeConfig(t, path, srv.URL, "alpha", "gamma")
	if err := r.d.Reload("test"); err != nil {
		t.Fatalf("valid reload: %v", err)
	}
	if code, body := get(t, "http://"+r.addr+"/readyz"); code != 200 {
		t.Errorf("/readyz after a good reload = %d %q", code, body)
	}
	_, status = get(t, "http://"+r.addr+"/api/v1/status")
	if !strings.Contains(status, "gamma") {
		t.Errorf("the new check is not scheduled: %s", status)
	}
}

func TestDaemonReloadsOnSignal(t *testing.T) {
	srv := api(t, nil, nil)
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, srv.URL, "alpha")
	hup := make(chan os.Signal, 1)
	results := make(chan checks.Result, 64)
	start(t, daemon.Options{ConfigPath: path, Reload: hup, WatchInterval: -1, OnResult: func(res checks.Result) { results <- res }})
	writeConfig(t, path, srv.URL, "delta")
	hup <- os.Interrupt // any signal value: the channel is what matters
	for res := range results {
		if res.Check == "delta" {
			return // the reloaded check ran
		}
	}
}

func TestDaemonShutdownDrainsInFlightProbes(t *testing.T) {
	hits := make(chan string, 1)
	hold := make(chan struct{})
	srv := api(t, hits, hold)
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, srv.URL, "slow")
	var recorded atomic.Int32
	r := start(t, daemon.Options{ConfigPath: path, WatchInterval: -1, OnResult: func(res checks.Result) {
		if res.Cause == checks.CauseOK {
			recorded.Add(1)
		}
	}})
	<-hits     // a probe is in flight
	r.cancel() // SIGTERM
	close(hold)
	if err := <-r.done; err != nil {
		t.Fatalf("Serve returned %v on a clean shutdown", err)
	}
	r.done <- nil // for Cleanup
	if recorded.Load() == 0 {
		t.Fatal("the in-flight probe's result was not recorded before shutdown")
	}
}

func TestDaemonReloadsWhenTheConfigFileChanges(t *testing.T) {
	srv := api(t, nil, nil)
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, srv.URL, "alpha")
	results := make(chan checks.Result, 64)
	start(t, daemon.Options{ConfigPath: path, WatchInterval: 20 * time.Millisecond, OnResult: func(res checks.Result) { results <- res }})
	writeConfig(t, path, srv.URL, "alpha", "epsilon")
	for res := range results {
		if res.Check == "epsilon" {
			return // the watcher saw the change and the new check ran
		}
	}
}

// syncBuffer is a log sink that tests read while the daemon writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
