package slack

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	slackapi "github.com/slack-go/slack"

	"github.com/credmon/credmon/notify"
)

// webhook posts every message top-level: a webhook cannot learn the ts
// of what it posted, so it cannot thread.
func (n *Notifier) webhook(ctx context.Context, hook, channel string, m notify.Message) (bool, error) {
	r := render(m)
	rec := &bodyRecorder{base: n.http.Transport}
	if rec.base == nil {
		rec.base = http.DefaultTransport
	}
	client := &http.Client{
		Transport: rec,
		Timeout:   n.http.Timeout,
		// The URL is the secret; a redirect would hand the payload elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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

// checkWebhookURL rejects what cannot be a webhook, without echoing it.
func checkWebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("not an http(s) URL")
	}
	return nil
}

// secretParts are the pieces of a webhook URL that must not leak; the path
// alone (/services/T…/B…/secret) is as good as the whole URL.
func secretParts(s string) []string {
	parts := []string{s}
	if u, err := url.Parse(s); err == nil && len(u.Path) > 1 {
		parts = append(parts, u.Path, u.EscapedPath())
	}
	return parts
}
