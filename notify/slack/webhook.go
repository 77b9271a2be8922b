package slack

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	slackapi "github.com/slack-go/slack"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/notify"
)

// webhook posts every message top-level: a webhook cannot learn the ts
// of what it posted, so it cannot thread.
func (n *Notifier) webhook(ctx context.Context, hook, channel string, m notify.Message) (bool, error) {
	r := render(m)
	base := n.http.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rec := &bodyRecorder{base: noRedirects{base}, secrets: n.secrets}
	client := &http.Client{Transport: rec, Timeout: n.http.Timeout, CheckRedirect: refuseRedirect}
	err := slackapi.PostWebhookCustomHTTPContext(ctx, hook, client, &slackapi.WebhookMessage{
		Channel: channel,
		Text:    r.Text,
		Blocks:  &slackapi.Blocks{BlockSet: r.Blocks},
	})
	if err != nil {
		return classify(ctx, "webhook", err, rec.body, n.secrets...)
	}
	return false, nil
}

// refuseRedirect is the clients' CheckRedirect; noRedirects already turns
// a 3xx into an error below it, so this only matters if that ever changes.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// checkWebhookURL rejects what cannot be a webhook, and plain http to
// another machine (the URL is the secret), without echoing it.
func checkWebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("not an http(s) URL")
	}
	if u.Scheme == "http" && !config.IsLoopback(u.Hostname()) {
		return errors.New("the webhook URL would be sent over plain http to another machine; use https")
	}
	return nil
}
