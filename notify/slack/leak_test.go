package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
