package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/redact"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/pagerduty"
	"github.com/credmon/credmon/notify/webhook"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

const (
	fakeRoutingKey = "FAKEpdROUTINGkey1111111111111111"
	fakeHookSecret = "FAKEwebhookSECRET-1111-not-real"
	waitFor        = 20 * time.Second
)

// sink records what a loopback provider accepted, after checking it, and
// fails the first request of each kind with a body that echoes the secret,
// the way a misbehaving gateway does.
type sink struct {
	mu       sync.Mutex
	accepted []string
	failed   bool
}

func (s *sink) add(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted = append(s.accepted, v)
}

func (s *sink) failOnce() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed {
		return false
	}
	s.failed = true
	return true
}

func (s *sink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.accepted)
	slices.Sort(out)
	return out
}

// pdServer accepts Events v2 requests with our routing key and records
// "ACTION DEDUP_KEY CLASS"; the first request gets a 500 echoing the key.
func pdServer(t *testing.T, s *sink) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			DedupKey    string `json:"dedup_key"`
			Payload     *struct {
				Summary, Source, Severity, Class string
			} `json:"payload"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil || ev.RoutingKey != fakeRoutingKey || ev.DedupKey == "" {
			t.Errorf("PagerDuty request refused: %v %+v", err, ev)
			w.WriteHeader(400)
			return
		}
		if s.failOnce() {
			http.Error(w, `{"status":"error","message":"upstream rejected routing_key `+fakeRoutingKey+`"}`, 500)
			return
		}
		class := ""
		if ev.EventAction == "trigger" {
			if ev.Payload == nil || ev.Payload.Summary == "" || ev.Payload.Source == "" || ev.Payload.Severity == "" {
				t.Errorf("trigger without the payload's required fields: %+v", ev)
			}
			class = ev.Payload.Class
		}
		s.add(strings.TrimSpace(ev.EventAction + " " + ev.DedupKey + " " + class))
		w.WriteHeader(202)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hookServer verifies the signature and records each body's "EVENT ID"; the
// first request gets a 500 echoing the secret.
func hookServer(t *testing.T, s *sink) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte(fakeHookSecret), raw, r.Header.Get(webhook.SignatureHeader)) {
			t.Errorf("bad signature on %s", raw)
			w.WriteHeader(401)
			return
		}
		if s.failOnce() {
			http.Error(w, "hmac secret "+fakeHookSecret+" rejected", 500)
			return
		}
		var b webhook.Body
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Errorf("body: %v", err)
		}
		s.add(string(b.Event) + " " + b.IncidentKey)
		w.WriteHeader(204)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// counter is a notifier of our own interface standing in for Slack and
// the console: it counts deliveries by message ID.
type counter struct {
	name string
	mu   sync.Mutex
	ids  []string
}

func (c *counter) Name() string { return c.name }
func (c *counter) Notify(_ context.Context, m notify.Message) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, string(m.Event)+" "+m.IncidentKey)
	return false, nil
}
func (c *counter) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.ids)
	slices.Sort(out)
	return out
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestRoutesThroughTheOutbox runs the incident engine, two dispatchers
// (replicas) on one real outbox (memstore, then Redis), and real
// PagerDuty and webhook notifiers against loopback servers, with the
// routes
//
//   - {match: {env: prod, status: fail}, to: [pagerduty]}
//   - {to: [webhook, slack]}
//
// Each message is enqueued by both replicas. Every transition reaches each
// chosen notifier exactly once: prod failures PagerDuty only, the rest the
// webhook and Slack, everything the console. The first request to each
// provider fails with the secret echoed in the body; it is retried, and
// the secret appears in no log line and no health report.
func TestRoutesThroughTheOutbox(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) interface {
		store.Outbox
		store.KV
	}{
		"memstore": func(t *testing.T) interface {
			store.Outbox
			store.KV
		} {
			return memstore.New()
		},
		"redis": func(t *testing.T) interface {
			store.Outbox
			store.KV
		} {
			client, prefix := storetest.Redis(t)
			return redisstore.New(client, prefix)
		},
	} {
		t.Run(name, func(t *testing.T) { routesThroughTheOutbox(t, open(t)) })
	}
}

func routesThroughTheOutbox(t *testing.T, st interface {
	store.Outbox
	store.KV
}) {
	pdSink, hookSink := &sink{}, &sink{}
	pdSrv, hookSrv := pdServer(t, pdSink), hookServer(t, hookSink)
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	router := notify.NewRouter([]notify.Route{
		{Match: notify.Matcher{Env: "prod", Status: checks.StatusFail}, To: []string{"pagerduty"}},
		{To: []string{"webhook", "slack"}},
	})
	slack, console := &counter{name: "slack"}, &counter{name: "console"}
	var replicas []*notify.Dispatcher
	sent := make(chan string, 100)
	for _, owner := range []string{"r1", "r2"} {
		pd, err := pagerduty.New(pagerduty.Options{RoutingKey: fakeRoutingKey, URL: pdSrv.URL + "/v2/enqueue"})
		if err != nil {
			t.Fatal(err)
		}
		hook, err := webhook.New(webhook.Options{URL: hookSrv.URL, Secret: fakeHookSecret})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, notify.NewDispatcher(st, []notify.Notifier{console, slack, pd, hook}, notify.DispatcherOptions{
			Owner: owner, Logger: logger, Router: router, Unrouted: []string{"console"},
			Poll: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, PermanentRetry: 50 * time.Millisecond,
			OnSent: func(n string) { sent <- n },
		}))
	}

	// The transitions, from the real incident engine.
	in := notify.NewIncidents(st, notify.IncidentOptions{FailureThreshold: 1})
	t0 := time.Now().Add(-time.Hour)
	ctx := context.Background()
	var msgs []notify.Message
	observe := func(env, check string, cause checks.Cause, at time.Duration) {
		r := checks.Result{Env: env, Check: check, Credential: check + "-key", Started: t0.Add(at)}
		r.SetCause(cause, "detail of "+string(cause), "")
		ms, err := in.Observe(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, ms...)
	}
	observe("prod", "payments", checks.CauseRevoked, 1*time.Minute)
	observe("staging", "billing", checks.CauseUnauthorized, 1*time.Minute)
	observe("prod", "reports", checks.CauseUnreachable, 1*time.Minute) // an error, not a failure
	observe("prod", "payments", checks.CauseOK, 2*time.Minute)
	observe("staging", "billing", checks.CauseOK, 2*time.Minute)
	if len(msgs) != 5 {
		t.Fatalf("%d messages from the incident engine, want 5", len(msgs))
	}
	for _, m := range msgs {
		for _, d := range replicas {
			if err := d.Enqueue(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range replicas {
		wg.Go(func() { _ = d.Run(runCtx) })
	}
	// 5 to the console, 2 to PagerDuty, 3 each to the webhook and Slack.
	deadline := time.After(waitFor)
	for i := range 13 {
		select {
		case <-sent:
		case <-deadline:
			stop()
			wg.Wait()
			t.Fatalf("only %d of 13 deliveries; logs:\n%s", i, logs.String())
		}
	}
	for {
		n, err := st.Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("outbox still holds %d entries", n)
		case <-time.After(10 * time.Millisecond):
		}
	}
	var health []string
	for _, d := range replicas {
		health = append(health, d.Health()...)
	}
	stop()
	wg.Wait()

	check := func(who string, got, want []string) {
		t.Helper()
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s received\n  %q\nwant exactly\n  %q", who, got, want)
		}
	}
	check("pagerduty", pdSink.got(), []string{"trigger prod/payments/auth revoked", "resolve prod/payments/auth"})
	rest := []string{"opened staging/billing/auth", "resolved staging/billing/auth", "opened prod/reports/availability"}
	check("webhook", hookSink.got(), rest)
	check("slack", slack.got(), rest)
	check("console", console.got(), append([]string{"opened prod/payments/auth", "resolved prod/payments/auth"}, rest...))

	// Both first attempts failed with the secret in the body: logged and
	// retried, never shown.
	out := logs.String() + strings.Join(health, "\n")
	if !strings.Contains(logs.String(), "delivery failed") {
		t.Errorf("the failed first attempts were not logged:\n%s", logs.String())
	}
	if set := redact.NewSet(fakeRoutingKey, fakeHookSecret); set.Contains(out) {
		t.Errorf("a secret reached the logs or health:\n%s", out)
	}
}
