package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks/redact"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify/webhook"
)

const (
	fakePDKey      = "FAKEpdROUTINGkey3333333333333333"
	fakeHookSecret = "FAKEwebhookSECRET-3333-not-real"
)

// seen records "WHO ENV" for every accepted notification.
type seen struct {
	mu   sync.Mutex
	got  []string
	fail map[string]bool // who has failed its first request already
}

func (s *seen) add(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, v)
}

func (s *seen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// firstFails reports whether this is who's first request, which fails.
func (s *seen) firstFails(who string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail[who] {
		return false
	}
	s.fail[who] = true
	return true
}

// TestDaemonRoutesNotifiers runs the daemon with PagerDuty, a webhook and
// Alertmanager configured (loopback servers that check what they get) and
// the routes "prod failures to pagerduty, the rest to webhook and
// alertmanager": both environments' checks fail, and each notifier hears
// only its share. PagerDuty's first answer echoes the routing key and the
// webhook's the secret; neither reaches the daemon's log.
func TestDaemonRoutesNotifiers(t *testing.T) {
	s := &seen{fail: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/pd/v2/enqueue":
			var ev struct {
				RoutingKey string `json:"routing_key"`
				Action     string `json:"event_action"`
				DedupKey   string `json:"dedup_key"`
			}
			if json.Unmarshal(raw, &ev) != nil || ev.RoutingKey != fakePDKey || ev.Action == "" {
				t.Errorf("PagerDuty got %s", raw)
				w.WriteHeader(400)
				return
			}
			if s.firstFails("pagerduty") {
				http.Error(w, "routing_key "+fakePDKey+" throttled", 500)
				return
			}
			s.add("pagerduty " + strings.SplitN(ev.DedupKey, "/", 2)[0])
			w.WriteHeader(202)
		case "/hook":
			if !webhook.Verify([]byte(fakeHookSecret), raw, r.Header.Get(webhook.SignatureHeader)) {
				t.Errorf("webhook signature does not verify")
				w.WriteHeader(401)
				return
			}
			if s.firstFails("webhook") {
				http.Error(w, "bad secret "+fakeHookSecret, 503)
				return
			}
			var b webhook.Body
			_ = json.Unmarshal(raw, &b)
			s.add("webhook " + b.Env)
			w.WriteHeader(204)
		case "/am/api/v2/alerts":
			var alerts []struct {
				Labels map[string]string `json:"labels"`
			}
			if err := json.Unmarshal(raw, &alerts); err != nil || len(alerts) == 0 {
				t.Errorf("Alertmanager got %s", raw)
			}
			for _, a := range alerts {
				s.add("alertmanager " + a.Labels["env"])
			}
			w.WriteHeader(200)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	target := api(t, nil, nil)

	t.Setenv("CREDMON_TEST_PD_KEY", fakePDKey)
	t.Setenv("CREDMON_TEST_HOOK_SECRET", fakeHookSecret)
	t.Setenv("CREDMON_DAEMON_TEST_WRONG_KEY", "sk_live_FAKEwrong0000000000000000")
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`
store: {driver: memory}
scheduler: {schedule: "@every 1s"}
alerting: {failure_threshold: 1}
notify:
  console: true
  pagerduty: {routing_key: {env: CREDMON_TEST_PD_KEY}, url: %[1]q}
  webhook: {url: %[2]q, secret: {env: CREDMON_TEST_HOOK_SECRET}}
  alertmanager: {urls: [%[3]q]}
  routes:
    - {match: {env: prod, status: fail}, to: [pagerduty]}
    - {to: [webhook, alertmanager]}
environments:
  prod:
    credentials: {key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_WRONG_KEY}}}
    checks: [{name: account, credential: key, url: %[4]q}]
  staging:
    credentials: {key: {type: api_key, secret: {env: CREDMON_DAEMON_TEST_WRONG_KEY}}}
    checks: [{name: account, credential: key, url: %[4]q}]
`, srv.URL+"/pd/v2/enqueue", srv.URL+"/hook", srv.URL+"/am", target.URL+"/account")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := daemon.New(ctx, daemon.Options{
		ConfigPath: path, WatchInterval: -1, Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		cancel()
		t.Fatalf("New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if !strings.Contains(logs.String(), "delivery failed") {
			t.Errorf("the failed first deliveries were not logged:\n%s", logs.String())
		}
		if set := redact.NewSet(fakePDKey, fakeHookSecret); set.Contains(logs.String()) {
			t.Errorf("a notifier's secret reached the daemon's log:\n%s", logs.String())
		}
	}()

	want := []string{"alertmanager staging", "pagerduty prod", "webhook staging"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := slices.Compact(slices.Sorted(slices.Values(s.list())))
		if slices.Equal(got, want) {
			break
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Fatalf("a notifier heard what its route does not send it: %s (all: %v)", g, s.list())
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
