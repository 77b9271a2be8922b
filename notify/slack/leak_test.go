package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/credmon/credmon/notify"
)

// assertNoSecret fails if text carries the bot token or any part of the
// webhook URL that grants posting.
func assertNoSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range []string{fakeToken, "FAKE-0000", fakeWebhookPath, "FAKEsecret"} {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks %q: %s", where, s, text)
		}
	}
}

// TestLeak drives every delivery path, failing and succeeding, in both
// modes, and greps errors, logs and everything Slack received.
func TestLeak(t *testing.T) {
	failures := []struct {
		path  string
		reply reply
	}{
		{"/api/chat.postMessage", reply{status: 429, header: map[string]string{"Retry-After": "3"}}},
		{"/api/chat.postMessage", reply{status: 429, header: map[string]string{"Retry-After": "soon"}}},
		{"/api/chat.postMessage", reply{status: 500, body: "token=" + fakeToken}},
		{"/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"channel_not_found"}`}},
		{"/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"` + fakeToken + `"}`}},
		{"/api/chat.postMessage", reply{status: 200, body: `not json`}},
		{"/api/chat.update", reply{status: 200, body: `{"ok":false,"error":"message_not_found"}`}},
		{"/api/chat.update", reply{status: 200, body: `{"ok":false,"error":"invalid_auth"}`}},
		{fakeWebhookPath, reply{status: 429, header: map[string]string{"Retry-After": "3"}}},
		{fakeWebhookPath, reply{status: 500, body: fakeWebhookPath}},
		{fakeWebhookPath, reply{status: 403, body: "invalid_token"}},
		{fakeWebhookPath, reply{status: 404, body: "no_service"}},
		{fakeWebhookPath, reply{status: 301, header: map[string]string{"Location": "http://127.0.0.1:1" + fakeWebhookPath}}},
	}

	f := newFakeSlack(t)
	logs := &logBuffer{}
	kv := &memKV{}
	bot := newBot(t, f, func(o *Options) { o.Threads = KVThreads(kv); o.Logger = logs.logger() })
	hook, err := New(Options{WebhookURL: f.webhookURL(), Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	deliver := func(n *Notifier, m notify.Message) {
		if _, err := n.Notify(context.Background(), m); err != nil {
			errs = append(errs, err)
		}
	}

	mustNotify(t, bot, opened()) // a thread, so update paths run
	for _, fl := range failures {
		f.queue(fl.path, fl.reply)
		switch {
		case fl.path == "/api/chat.update":
			deliver(bot, followUp(notify.EventResolved, "msg-r"))
		case strings.HasPrefix(fl.path, "/api/"):
			deliver(bot, opened())
		default:
			deliver(hook, opened())
		}
	}
	for _, ev := range []notify.Event{notify.EventReminder, notify.EventCauseChanged, notify.EventResolved, notify.EventRotated} {
		deliver(bot, followUp(ev, "msg-"+string(ev)))
		deliver(hook, followUp(ev, "msg-"+string(ev)))
	}
	kv.fail = errors.New("redis down")
	deliver(bot, opened())
	deliver(bot, followUp(notify.EventReminder, "msg-kv"))

	// Unreachable Slack: the transport error of a webhook names its URL.
	down := f.srv.URL
	f.srv.Close()
	deliver(bot, opened())
	deliver(hook, opened())
	raw := slackapi.PostWebhookContext(context.Background(), down+fakeWebhookPath, &slackapi.WebhookMessage{Text: "x"})
	if raw == nil || !strings.Contains(raw.Error(), "FAKEsecret") {
		t.Fatalf("expected slack-go's own error to carry the URL (else this test proves nothing): %v", raw)
	}

	if len(errs) < len(failures) {
		t.Errorf("only %d errors for %d injected failures", len(errs), len(failures))
	}
	for _, err := range errs {
		assertNoSecret(t, "error", err.Error())
		assertNoSecret(t, "error %+v", fmt.Sprintf("%+v", err))
		assertNoSecret(t, "error %#v", fmt.Sprintf("%#v", err))
	}
	assertNoSecret(t, "logs", logs.String())
	for k, v := range kv.m {
		assertNoSecret(t, "store", k+string(v))
	}

	reqs := f.requests()
	if len(reqs) < 20 {
		t.Fatalf("only %d requests reached the fake", len(reqs))
	}
	for i, r := range reqs {
		where := fmt.Sprintf("request %d %s", i, r.Path)
		assertNoSecret(t, where+" body", r.Body)
		assertNoSecret(t, where+" query", r.Query)
		for name, vals := range r.Header {
			if http.CanonicalHeaderKey(name) == "Authorization" {
				continue
			}
			assertNoSecret(t, where+" header "+name, strings.Join(vals, " "))
		}
		if strings.HasPrefix(r.Path, "/api/") && r.Header.Get("Authorization") != "Bearer "+fakeToken {
			t.Errorf("%s: Authorization %q", where, r.Header.Get("Authorization"))
		}
		if strings.HasPrefix(r.Path, "/services/") && r.Header.Get("Authorization") != "" {
			t.Errorf("%s: webhook got an Authorization header", where)
		}
	}
}

// secretRun returns the first 12 consecutive characters of any of
// secrets found in text, or a shorter secret (of 4 or more) found whole:
// what the output rule forbids. It does not use redactSecrets, which is
// what it checks.
func secretRun(text string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) < 12 {
			if len(s) >= 4 && strings.Contains(text, s) {
				return s
			}
			continue
		}
		for i := 0; i+12 <= len(s); i++ {
			if strings.Contains(text, s[i:i+12]) {
				return s[i : i+12]
			}
		}
	}
	return ""
}

func assertNoSecretRun(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	if run := secretRun(text, secrets...); run != "" {
		t.Errorf("%s holds %q of a secret: %s", where, run, text)
	}
}

// longSecrets are the forms of longToken and a long webhook URL that must
// not appear anywhere.
func longSecrets(hook string) []string {
	return []string{longToken, hook, url.QueryEscape(hook), url.PathEscape(hook), longWebhookPath, longHookSecret}
}

// TestRedirectNotFollowed: Slack answering with a redirect to another
// server (127.0.0.1 on another port; the webhook is reached as localhost)
// gets nothing there, in either mode: no request, so neither the token
// nor the message, and the failure is permanent and names only the host.
func TestRedirectNotFollowed(t *testing.T) {
	for _, mode := range []string{"bot", "webhook"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeSlack(t)
			elsewhere := newSink(t)
			logs := &logBuffer{}
			hook := strings.Replace(f.addHook(longWebhookPath), "127.0.0.1", "localhost", 1)
			path := "/api/chat.postMessage"
			var n *Notifier
			if mode == "bot" {
				n = newBot(t, f, func(o *Options) { o.BotToken = longToken; o.Logger = logs.logger() })
			} else {
				var err error
				if n, err = New(Options{WebhookURL: hook, Logger: logs.logger()}); err != nil {
					t.Fatal(err)
				}
				path = longWebhookPath
			}
			target, _ := url.Parse(elsewhere.srv.URL)
			loc := elsewhere.srv.URL + "/elsewhere/FAKEredirectPATH?q=FAKEredirectQUERY"
			statuses := []int{301, 302, 303, 307, 308}
			for _, status := range statuses {
				f.queue(path, reply{status: status, header: map[string]string{"Location": loc}})
				retry, err := n.Notify(context.Background(), opened())
				if err == nil {
					t.Fatalf("%d: delivered, so the redirect was followed", status)
				}
				if retry {
					t.Errorf("%d: retry = true, want a permanent failure", status)
				}
				var se *Error
				if !errors.As(err, &se) || se.Code != "redirect" || se.Status != status || se.Retryable {
					t.Errorf("%d: error %#v", status, err)
				}
				text := err.Error()
				if !strings.Contains(text, "redirect to "+target.Host+",") {
					t.Errorf("%d: error does not name the Location's host %s: %s", status, target.Host, text)
				}
				for _, part := range []string{"/elsewhere", "FAKEredirect"} {
					if strings.Contains(text, part) {
						t.Errorf("%d: error names the Location's path or query (%s): %s", status, part, text)
					}
				}
				assertNoSecretRun(t, "error", text, longSecrets(hook)...)
			}
			if got := len(f.calls(path)); got != len(statuses) {
				t.Fatalf("Slack got %d requests, want %d", got, len(statuses))
			}
			for i, r := range elsewhere.requests() {
				t.Errorf("redirect target got request %d: %s %s", i, r.Method, r.Path)
				if a := r.Header.Get("Authorization"); a != "" {
					t.Errorf("redirect target got Authorization %q", a)
				}
				assertNoSecretRun(t, "redirect target", fmt.Sprint(r), longSecrets(hook)...)
			}
			assertNoSecretRun(t, "logs", logs.String(), longSecrets(hook)...)
		})
	}
}

// TestErrorBodyEcho: a Slack (or a gateway) that echoes the token or the
// webhook URL in its error, cut at odd lengths, in code-shaped bodies and
// in JSON error codes. Nothing of them reaches the error or the logs. The
// code-shaped cases would otherwise become the error's code.
func TestErrorBodyEcho(t *testing.T) {
	f := newFakeSlack(t)
	logs := &logBuffer{}
	hook := f.addHook(longWebhookPath)
	// One notifier holding both secrets: prod posts by webhook, the rest by bot.
	n := newBot(t, f, func(o *Options) {
		o.BotToken = longToken
		o.Routes = map[string]Route{"prod": {WebhookURL: hook}}
		o.Logger = logs.logger()
	})
	pad := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name  string
		path  string
		reply reply
		code  string // the code the error must carry instead
	}{
		// 255 bytes, the token starting at byte 240.
		{"token at 240 of 255", longWebhookPath, reply{status: 500, body: pad(240) + longToken[:15]}, "http_500"},
		// Across the 256-byte cut: 16 bytes of the URL before it.
		{"url across the cut", longWebhookPath, reply{status: 502, body: pad(240) + hook + pad(3000)}, "http_502"},
		{"escaped url", longWebhookPath, reply{status: 400, body: "bad: " + url.QueryEscape(hook)}, "http_400"},
		{"secret part as the code", longWebhookPath, reply{status: 403, body: longHookSecret}, "http_403"},
		{"cut secret part as the code", longWebhookPath, reply{status: 403, body: longHookSecret[3:18]}, "http_403"},
		{"code then secret", longWebhookPath, reply{status: 404, body: "no_service" + longHookSecret[:13]}, "http_404"},
		{"api code is the secret part", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"` + longHookSecret[5:21] + `"}`}, "unknown_error"},
		{"api code is the token", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"` + longToken[7:40] + `"}`}, "unknown_error"},
		{"api 500 echoes", "/api/chat.postMessage", reply{status: 500, body: pad(251) + longToken + hook}, "http_500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if secretRun(c.reply.body, longSecrets(hook)...) == "" {
				t.Fatalf("the body echoes no secret, so the case proves nothing: %q", c.reply.body)
			}
			m := opened()
			if !strings.HasPrefix(c.path, "/services/") {
				m.Env = "staging"
			}
			f.queue(c.path, c.reply)
			_, err := n.Notify(context.Background(), m)
			if err == nil {
				t.Fatal("no error")
			}
			var se *Error
			if !errors.As(err, &se) || se.Code != c.code {
				t.Errorf("code %q, want %q (err %v)", se.Code, c.code, err)
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				assertNoSecretRun(t, "error", text, longSecrets(hook)...)
			}
		})
	}
	assertNoSecretRun(t, "logs", logs.String(), longSecrets(hook)...)
}
