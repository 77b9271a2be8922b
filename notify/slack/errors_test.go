package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/notify"
)

type retryAfter interface{ RetryAfter() time.Duration }

// TestRetryDecisions: what Slack answers decides whether the outbox tries
// again, in both modes.
func TestRetryDecisions(t *testing.T) {
	cases := []struct {
		name      string
		path      string // where the failure is injected
		reply     reply
		retry     bool
		after     time.Duration // 0: the error must not carry RetryAfter
		errSubstr string
	}{
		{"bot 429", "/api/chat.postMessage", reply{status: 429, header: map[string]string{"Retry-After": "3"}}, true, 3 * time.Second, "rate limited"},
		{"bot 500", "/api/chat.postMessage", reply{status: 500, body: "<html>oops</html>"}, true, 0, "http_500"},
		{"bot 503", "/api/chat.postMessage", reply{status: 503}, true, 0, "http_503"},
		{"bot channel_not_found", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"channel_not_found"}`}, false, 0, "channel_not_found: the channel does not exist"},
		{"bot is_archived", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"is_archived"}`}, false, 0, "is_archived"},
		{"bot not_authed", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"not_authed"}`}, false, 0, "not_authed"},
		{"bot no_permission", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"no_permission"}`}, false, 0, "no_permission"},
		{"bot internal_error", "/api/chat.postMessage", reply{status: 200, body: `{"ok":false,"error":"internal_error"}`}, true, 0, "internal_error"},
		{"webhook 429", fakeWebhookPath, reply{status: 429, header: map[string]string{"Retry-After": "3"}}, true, 3 * time.Second, "rate limited"},
		{"webhook 500", fakeWebhookPath, reply{status: 500}, true, 0, "http_500"},
		{"webhook 403 invalid_token", fakeWebhookPath, reply{status: 403, body: "invalid_token"}, false, 0, "invalid_token (HTTP 403): the webhook URL is invalid"},
		{"webhook 404 no_service", fakeWebhookPath, reply{status: 404, body: "no_service"}, false, 0, "no_service (HTTP 404)"},
		{"webhook 410 archived", fakeWebhookPath, reply{status: 410, body: "channel_is_archived"}, false, 0, "channel_is_archived"},
		{"webhook 302", fakeWebhookPath, reply{status: 302, header: map[string]string{"Location": "https://elsewhere.example/"}}, false, 0, "redirect (HTTP 302): Slack answered with a redirect to elsewhere.example, which credmon does not follow"},
		{"bot 307", "/api/chat.postMessage", reply{status: 307, header: map[string]string{"Location": "https://elsewhere.example/api/"}}, false, 0, "redirect (HTTP 307): Slack answered with a redirect to elsewhere.example, which credmon does not follow with a secret; check notify.slack.api_url"},
		{"bot 301 relative", "/api/chat.postMessage", reply{status: 301, header: map[string]string{"Location": "/elsewhere"}}, false, 0, "redirect (HTTP 301): Slack answered with a redirect to 127.0.0.1:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeSlack(t)
			var n *Notifier
			if strings.HasPrefix(c.path, "/api/") {
				n = newBot(t, f, nil)
			} else {
				var err error
				if n, err = New(Options{WebhookURL: f.webhookURL()}); err != nil {
					t.Fatal(err)
				}
			}
			f.queue(c.path, c.reply)
			retry, err := n.Notify(context.Background(), opened())
			if err == nil {
				t.Fatal("no error")
			}
			if retry != c.retry {
				t.Errorf("retry = %v, want %v (err %v)", retry, c.retry, err)
			}
			if !strings.Contains(err.Error(), c.errSubstr) {
				t.Errorf("error %q lacks %q", err, c.errSubstr)
			}
			var ra retryAfter
			if got := errors.As(err, &ra); got != (c.after > 0) {
				t.Fatalf("error has RetryAfter: %v, want %v", got, c.after > 0)
			}
			if c.after > 0 && ra.RetryAfter() != c.after {
				t.Errorf("RetryAfter = %v, want %v", ra.RetryAfter(), c.after)
			}
		})
	}
}

func TestRetryBadToken(t *testing.T) {
	f := newFakeSlack(t)
	n := newBot(t, f, func(o *Options) { o.BotToken = "xoxb-FAKE-wrong" })
	retry, err := n.Notify(context.Background(), opened())
	if err == nil || retry || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("retry=%v err=%v, want a permanent invalid_auth", retry, err)
	}
	var se *Error
	if !errors.As(err, &se) || se.Code != "invalid_auth" || se.Retryable {
		t.Errorf("error %#v", err)
	}
}

func TestRetryNetwork(t *testing.T) {
	f := newFakeSlack(t)
	bot := newBot(t, f, nil)
	hook, err := New(Options{WebhookURL: f.webhookURL()})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	for name, n := range map[string]*Notifier{"bot": bot, "webhook": hook} {
		retry, err := n.Notify(context.Background(), opened())
		if err == nil || !retry {
			t.Errorf("%s: retry=%v err=%v, want a retryable network error", name, retry, err)
		}
	}
}

func TestRetryCanceled(t *testing.T) {
	f := newFakeSlack(t)
	n := newBot(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := n.Notify(ctx, opened())
	if !retry || !errors.Is(err, context.Canceled) {
		t.Fatalf("retry=%v err=%v, want retry and context.Canceled", retry, err)
	}
}

// TestResolvedUpdateFailures: a retryable update failure posts nothing (so
// the retry cannot duplicate the reply); an opening that can no longer be
// edited does not hold back the reply.
func TestResolvedUpdateFailures(t *testing.T) {
	t.Run("5xx", func(t *testing.T) {
		f := newFakeSlack(t)
		n := newBot(t, f, nil)
		mustNotify(t, n, opened())
		f.queue("/api/chat.update", reply{status: http.StatusBadGateway})
		retry, err := n.Notify(context.Background(), followUp(notify.EventResolved, "msg-4"))
		if !retry || err == nil {
			t.Fatalf("retry=%v err=%v", retry, err)
		}
		if got := len(f.calls("/api/chat.postMessage")); got != 1 {
			t.Fatalf("%d posts after a failed update, want only the opening", got)
		}
		mustNotify(t, n, followUp(notify.EventResolved, "msg-4"))
		if got := len(f.calls("/api/chat.postMessage")); got != 2 {
			t.Errorf("%d posts after the retry, want 2", got)
		}
	})
	t.Run("message_not_found", func(t *testing.T) {
		f := newFakeSlack(t)
		n := newBot(t, f, nil)
		mustNotify(t, n, opened())
		f.queue("/api/chat.update", reply{status: 200, body: `{"ok":false,"error":"message_not_found"}`})
		mustNotify(t, n, followUp(notify.EventResolved, "msg-4"))
		posts := f.calls("/api/chat.postMessage")
		if len(posts) != 2 || posts[1].Form.Get("thread_ts") == "" {
			t.Fatalf("resolved reply missing: %+v", posts)
		}
	})
}

// TestThreadStoreDown: a follow-up waits for the store rather than
// losing its thread; an opening is not re-posted because its thread could
// not be recorded.
func TestThreadStoreDown(t *testing.T) {
	f := newFakeSlack(t)
	kv := &memKV{fail: errors.New("redis: connection refused")}
	logs := &logBuffer{}
	n := newBot(t, f, func(o *Options) { o.Threads = KVThreads(kv); o.Logger = logs.logger() })
	mustNotify(t, n, opened())
	if !strings.Contains(logs.String(), "cannot record incident thread") {
		t.Errorf("no warning logged: %s", logs)
	}
	retry, err := n.Notify(context.Background(), followUp(notify.EventReminder, "msg-2"))
	if !retry || err == nil {
		t.Fatalf("retry=%v err=%v, want retry while the store is down", retry, err)
	}
	if got := len(f.calls("/api/chat.postMessage")); got != 1 {
		t.Errorf("%d posts, want 1", got)
	}
}
