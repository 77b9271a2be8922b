package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/credmon/credmon/notify"
)

// TestBotIncidentThread follows one incident from opening to resolution:
// one top-level message, every follow-up in its thread, the opening
// rewritten as resolved.
func TestBotIncidentThread(t *testing.T) {
	f := newFakeSlack(t)
	kv := &memKV{}
	n := newBot(t, f, func(o *Options) { o.Threads = KVThreads(kv) })

	mustNotify(t, n, opened())
	mustNotify(t, n, followUp(notify.EventReminder, "msg-2"))
	mustNotify(t, n, followUp(notify.EventCauseChanged, "msg-3"))
	mustNotify(t, n, followUp(notify.EventResolved, "msg-4"))

	reqs := f.requests()
	wantPaths := []string{"/api/chat.postMessage", "/api/chat.postMessage", "/api/chat.postMessage", "/api/chat.update", "/api/chat.postMessage"}
	if len(reqs) != len(wantPaths) {
		t.Fatalf("got %d requests, want %d: %+v", len(reqs), len(wantPaths), reqs)
	}
	for i, r := range reqs {
		if r.Path != wantPaths[i] {
			t.Errorf("request %d: path %s, want %s", i, r.Path, wantPaths[i])
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+fakeToken {
			t.Errorf("request %d: Authorization %q", i, got)
		}
		if r.Form.Has("token") {
			t.Errorf("request %d: token sent in the body", i)
		}
		var blocks []any
		if err := json.Unmarshal([]byte(r.Form.Get("blocks")), &blocks); err != nil || len(blocks) == 0 {
			t.Errorf("request %d: blocks do not parse: %v", i, err)
		}
		if r.Form.Get("text") == "" {
			t.Errorf("request %d: no fallback text", i)
		}
	}

	open := reqs[0]
	if open.Form.Get("channel") != "#credentials" || open.Form.Has("thread_ts") {
		t.Errorf("opening: channel %q thread_ts %q, want #credentials top-level", open.Form.Get("channel"), open.Form.Get("thread_ts"))
	}
	const openTS = "1700000000.000001"
	for _, i := range []int{1, 2, 4} {
		r := reqs[i]
		if r.Form.Get("thread_ts") != openTS || r.Form.Get("channel") != "CCREDENTIALS" {
			t.Errorf("follow-up %d: channel %q thread_ts %q, want CCREDENTIALS in thread %s",
				i, r.Form.Get("channel"), r.Form.Get("thread_ts"), openTS)
		}
	}
	if !strings.Contains(reqs[2].Form.Get("text"), "token_expired (was invalid_token)") {
		t.Errorf("cause change text: %q", reqs[2].Form.Get("text"))
	}
	if !strings.Contains(reqs[4].Form.Get("text"), "RESOLVED") {
		t.Errorf("resolved reply text: %q", reqs[4].Form.Get("text"))
	}

	upd := reqs[3]
	if upd.Form.Get("ts") != openTS || upd.Form.Get("channel") != "CCREDENTIALS" {
		t.Errorf("update: channel %q ts %q, want the opening message", upd.Form.Get("channel"), upd.Form.Get("ts"))
	}
	if !strings.HasPrefix(upd.Form.Get("text"), "✅ RESOLVED") {
		t.Errorf("update text %q does not start with ✅ RESOLVED", upd.Form.Get("text"))
	}
	var blocks []any
	_ = json.Unmarshal([]byte(upd.Form.Get("blocks")), &blocks)
	body := blockText(blocks)
	for _, want := range []string{"✅ RESOLVED", "[prod] payments-account", "token_expired", "sk_live_…a1b2"} {
		if !strings.Contains(body, want) {
			t.Errorf("updated opening lacks %q:\n%s", want, body)
		}
	}

	raw, ok := kv.m["slack:thread:prod/payments-account/auth"]
	if !ok {
		t.Fatalf("thread not stored under slack:thread:<incident>; keys %v", kv.m)
	}
	var th struct{ Channel, TS string }
	if err := json.Unmarshal(raw, &th); err != nil || th.Channel != "CCREDENTIALS" || th.TS != openTS {
		t.Errorf("stored thread %s (%v)", raw, err)
	}
}

// TestBotThreadAcrossRestart: another replica (or this one after a
// restart) finds the thread in the shared store.
func TestBotThreadAcrossRestart(t *testing.T) {
	f := newFakeSlack(t)
	kv := &memKV{}
	mustNotify(t, newBot(t, f, func(o *Options) { o.Threads = KVThreads(kv) }), opened())
	mustNotify(t, newBot(t, f, func(o *Options) { o.Threads = KVThreads(kv) }), followUp(notify.EventReminder, "msg-2"))

	posts := f.calls("/api/chat.postMessage")
	if len(posts) != 2 || posts[1].Form.Get("thread_ts") != "1700000000.000001" {
		t.Fatalf("reminder after restart not threaded: %+v", posts)
	}
}

// TestBotUnknownThread: with the store lost, a resolution still reaches the
// channel, top-level, and nothing is updated.
func TestBotUnknownThread(t *testing.T) {
	f := newFakeSlack(t)
	n := newBot(t, f, nil)
	mustNotify(t, n, followUp(notify.EventResolved, "msg-4"))

	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Path != "/api/chat.postMessage" || reqs[0].Form.Has("thread_ts") {
		t.Fatalf("want one top-level post, got %+v", reqs)
	}
	if reqs[0].Form.Get("channel") != "#credentials" {
		t.Errorf("channel %q", reqs[0].Form.Get("channel"))
	}
}

// TestBotReminderWithoutThreadStartsOne: the first follow-up without a
// known thread becomes the thread for the next ones.
func TestBotReminderWithoutThreadStartsOne(t *testing.T) {
	f := newFakeSlack(t)
	n := newBot(t, f, nil)
	mustNotify(t, n, followUp(notify.EventReminder, "msg-2"))
	mustNotify(t, n, followUp(notify.EventReminder, "msg-3"))
	posts := f.calls("/api/chat.postMessage")
	if len(posts) != 2 || posts[0].Form.Has("thread_ts") || posts[1].Form.Get("thread_ts") != "1700000000.000001" {
		t.Fatalf("got %+v", posts)
	}
}

// TestBotRotatedIsTopLevel: a rotation is news of its own, not part of a
// failure's thread.
func TestBotRotatedIsTopLevel(t *testing.T) {
	f := newFakeSlack(t)
	n := newBot(t, f, nil)
	mustNotify(t, n, opened())
	m := opened()
	m.Event, m.Cause, m.Status, m.Detail = notify.EventRotated, "ok", "ok", "payments-key was rotated; the new key was verified (200)."
	mustNotify(t, n, m)
	posts := f.calls("/api/chat.postMessage")
	if len(posts) != 2 || posts[1].Form.Has("thread_ts") {
		t.Fatalf("rotated message threaded: %+v", posts)
	}
	if !strings.Contains(posts[1].Form.Get("text"), "🔑 [prod] payments-account — key rotated") {
		t.Errorf("rotated text %q", posts[1].Form.Get("text"))
	}
}

// TestRouting: each environment goes where its route says; others to the
// default channel.
func TestRouting(t *testing.T) {
	f := newFakeSlack(t)
	stagingHook := f.addHook("/services/TFAKE/BSTAGING/FAKEstaging")
	n := newBot(t, f, func(o *Options) {
		o.Routes = map[string]Route{
			"prod":    {Channel: "#prod-credentials"},
			"staging": {WebhookURL: stagingHook},
		}
	})
	for _, env := range []string{"prod", "staging", "dev"} {
		m := opened()
		m.Env, m.IncidentKey = env, env+"/payments-account/auth"
		mustNotify(t, n, m)
	}
	posts := f.calls("/api/chat.postMessage")
	if len(posts) != 2 {
		t.Fatalf("want 2 bot posts (prod, dev), got %d", len(posts))
	}
	if got := posts[0].Form.Get("channel"); got != "#prod-credentials" {
		t.Errorf("prod went to %q", got)
	}
	if got := posts[1].Form.Get("channel"); got != "#credentials" {
		t.Errorf("dev went to %q", got)
	}
	hooks := f.calls("/services/TFAKE/BSTAGING/FAKEstaging")
	if len(hooks) != 1 || !strings.Contains(hooks[0].JSON["text"].(string), "[staging]") {
		t.Fatalf("staging webhook calls: %+v", hooks)
	}

	// A follow-up goes to the thread in the channel the route chose.
	mustNotify(t, n, followUp(notify.EventReminder, "msg-2"))
	posts = f.calls("/api/chat.postMessage")
	if last := posts[len(posts)-1]; last.Form.Get("channel") != "CPRODCREDENTIALS" || last.Form.Get("thread_ts") != "1700000000.000001" {
		t.Errorf("prod reminder: channel %q thread %q", last.Form.Get("channel"), last.Form.Get("thread_ts"))
	}
}

// TestWebhook checks the payload shape a Slack webhook accepts.
func TestWebhook(t *testing.T) {
	f := newFakeSlack(t)
	n, err := New(Options{WebhookURL: f.webhookURL(), Routes: map[string]Route{"prod": {Channel: "#prod-credentials"}}})
	if err != nil {
		t.Fatal(err)
	}
	mustNotify(t, n, opened())
	mustNotify(t, n, followUp(notify.EventResolved, "msg-4"))

	calls := f.calls(fakeWebhookPath)
	if len(calls) != 2 {
		t.Fatalf("got %d webhook calls", len(calls))
	}
	for i, c := range calls {
		if ct := c.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("call %d: Content-Type %q", i, ct)
		}
		if c.Header.Get("Authorization") != "" {
			t.Errorf("call %d: a webhook needs no Authorization", i)
		}
		if c.JSON["channel"] != "#prod-credentials" {
			t.Errorf("call %d: channel %v", i, c.JSON["channel"])
		}
		if _, ok := c.JSON["thread_ts"]; ok {
			t.Errorf("call %d: webhooks cannot thread", i)
		}
		blocks, _ := c.JSON["blocks"].([]any)
		if len(blocks) < 3 {
			t.Fatalf("call %d: blocks %v", i, c.JSON["blocks"])
		}
		if typ := blocks[0].(map[string]any)["type"]; typ != "header" {
			t.Errorf("call %d: first block %v, want header", i, typ)
		}
	}
	if text := calls[0].JSON["text"].(string); !strings.HasPrefix(text, "🔴 [prod] payments-account — invalid_token") {
		t.Errorf("opening fallback %q", text)
	}
	if text := calls[1].JSON["text"].(string); !strings.HasPrefix(text, "✅ [prod] payments-account — RESOLVED") {
		t.Errorf("resolved fallback %q", text)
	}
}

func TestNewRejects(t *testing.T) {
	for name, opts := range map[string]Options{
		"nothing":             {},
		"bot without channel": {BotToken: fakeToken},
		"token with newline":  {BotToken: fakeToken + "\n", Channel: "#c"},
		"webhook not http":    {WebhookURL: "ftp://hooks.example" + fakeWebhookPath},
		"route webhook bad":   {BotToken: fakeToken, Channel: "#c", Routes: map[string]Route{"prod": {WebhookURL: "hooks.example" + fakeWebhookPath}}},
		"api url bad":         {BotToken: fakeToken, Channel: "#c", APIURL: "::"},
		"webhook plain http":  {WebhookURL: "http://hooks.slack.invalid" + fakeWebhookPath},
		"route plain http":    {BotToken: fakeToken, Channel: "#c", Routes: map[string]Route{"prod": {WebhookURL: "http://hooks.slack.invalid" + fakeWebhookPath}}},
		"api url plain http":  {BotToken: fakeToken, Channel: "#c", APIURL: "http://slack.invalid/api/"},
		"api url plain http6": {BotToken: fakeToken, Channel: "#c", APIURL: "http://[2001:db8::1]/api/"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(opts)
			if err == nil {
				t.Fatal("accepted")
			}
			assertNoSecret(t, "New error", err.Error())
		})
	}
	if _, err := New(Options{Routes: map[string]Route{"prod": {WebhookURL: "https://hooks.example" + fakeWebhookPath}}}); err != nil {
		t.Errorf("webhook on every route: %v", err)
	}
	// Plain http to this machine is allowed: tests, a local gateway.
	for _, opts := range []Options{
		{WebhookURL: "http://localhost:9" + fakeWebhookPath},
		{BotToken: fakeToken, Channel: "#c", APIURL: "http://127.0.0.1:9/api/"},
		{BotToken: fakeToken, Channel: "#c", APIURL: "http://[::1]:9/api/"},
	} {
		if _, err := New(opts); err != nil {
			t.Errorf("loopback over http refused: %v", err)
		}
	}
}

// TestNoRouteForEnv: webhooks only on some routes, nothing for this
// environment: a configuration problem, not worth retrying.
func TestNoRouteForEnv(t *testing.T) {
	f := newFakeSlack(t)
	n, err := New(Options{Routes: map[string]Route{"prod": {WebhookURL: f.webhookURL()}}})
	if err != nil {
		t.Fatal(err)
	}
	m := opened()
	m.Env = "dev"
	retry, err := n.Notify(context.Background(), m)
	if retry || err == nil || !strings.Contains(err.Error(), `environment "dev"`) {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	mustNotify(t, n, opened())
	if got := len(f.calls(fakeWebhookPath)); got != 1 {
		t.Errorf("%d webhook calls, want 1", got)
	}
}

// TestConcurrentIncidents: the outbox delivers several incidents at once;
// each keeps its own thread.
func TestConcurrentIncidents(t *testing.T) {
	f := newFakeSlack(t)
	kv := &memKV{}
	n := newBot(t, f, func(o *Options) { o.Threads = KVThreads(kv) })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			m := opened()
			m.IncidentKey = fmt.Sprintf("prod/check-%d/auth", i)
			if _, err := n.Notify(context.Background(), m); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(f.calls("/api/chat.postMessage")); got != 8 {
		t.Errorf("%d posts, want 8", got)
	}
	seen := map[string]bool{}
	for k, v := range kv.m {
		if seen[string(v)] {
			t.Errorf("%s shares a thread with another incident: %s", k, v)
		}
		seen[string(v)] = true
	}
	if len(seen) != 8 {
		t.Errorf("%d threads recorded, want 8", len(seen))
	}
}
