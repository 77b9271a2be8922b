// Package slack owns credmon's Slack notifier: Block Kit messages, delivery
// by webhook or bot token (incident threads, resolved updates) and retry decisions.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/notify"
)

// Route overrides where one environment's messages go.
type Route struct {
	Channel    string
	WebhookURL string // secret
}

// Options configure a Notifier. Either WebhookURL or BotToken is needed
// (or a webhook on every route); with both, the bot is used, since only
// it can thread follow-ups and update the opening message.
type Options struct {
	WebhookURL string // secret
	BotToken   string // secret
	Channel    string // default channel; required with BotToken
	APIURL     string // default config.DefaultSlackAPIURL; for gateways and tests
	Routes     map[string]Route
	// Threads remembers incident threads; KVThreads shares them across
	// replicas and restarts. Nil keeps them in this process only.
	Threads    ThreadStore
	HTTPClient *http.Client // default: a client with a 10s timeout
	Logger     *slog.Logger // default slog.Default()
}

// Notifier delivers credmon messages to Slack.
type Notifier struct {
	webhookURL string
	channel    string
	routes     map[string]Route
	api        *slackapi.Client // nil without a bot token
	http       *http.Client
	threads    ThreadStore
	log        *slog.Logger
	secrets    []string // the bot token and webhook URLs in every form; redacted from server text and errors
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates opts and returns a Notifier. Its errors never contain the
// webhook URL or the token.
func New(opts Options) (*Notifier, error) {
	n := &Notifier{
		webhookURL: opts.WebhookURL,
		channel:    opts.Channel,
		routes:     opts.Routes,
		http:       opts.HTTPClient,
		threads:    opts.Threads,
		log:        opts.Logger,
	}
	if n.http == nil {
		n.http = &http.Client{Timeout: 10 * time.Second}
	}
	if n.threads == nil {
		n.threads = &memThreads{}
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	everyRouteHasWebhook := len(opts.Routes) > 0
	for env, r := range opts.Routes {
		if r.WebhookURL == "" {
			everyRouteHasWebhook = false
			continue
		}
		if err := checkWebhookURL(r.WebhookURL); err != nil {
			return nil, fmt.Errorf("slack: environments.%s.slack.webhook_url: %w", env, err)
		}
		n.secrets = append(n.secrets, webhookSecrets(r.WebhookURL)...)
	}
	if opts.WebhookURL != "" {
		if err := checkWebhookURL(opts.WebhookURL); err != nil {
			return nil, fmt.Errorf("slack: webhook_url: %w", err)
		}
		n.secrets = append(n.secrets, webhookSecrets(opts.WebhookURL)...)
	}
	if opts.BotToken == "" {
		if opts.WebhookURL == "" && !everyRouteHasWebhook {
			return nil, errors.New("slack: set webhook_url or bot_token")
		}
		return n, nil
	}
	if strings.ContainsAny(opts.BotToken, " \t\r\n") {
		return nil, errors.New("slack: bot_token contains whitespace (a stray newline from a file?)")
	}
	if opts.Channel == "" {
		return nil, errors.New("slack: channel is required with bot_token")
	}
	apiURL := opts.APIURL
	if apiURL == "" {
		apiURL = config.DefaultSlackAPIURL
	}
	api, err := url.Parse(apiURL)
	if err != nil || (api.Scheme != "https" && api.Scheme != "http") || api.Host == "" {
		return nil, errors.New("slack: api_url must be an http(s) URL")
	}
	if api.Scheme == "http" && !config.IsLoopback(api.Hostname()) {
		return nil, fmt.Errorf("slack: api_url: the bot token would be sent over plain http to %s; use https", api.Hostname())
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	n.secrets = append(n.secrets, sensitiveForms(opts.BotToken)...)
	bot := *n.http
	base := bot.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	bot.Transport = newBearerTransport(noRedirects{base}, opts.BotToken, api)
	bot.CheckRedirect = refuseRedirect
	n.api = slackapi.New(opts.BotToken, slackapi.OptionAPIURL(apiURL), slackapi.OptionHTTPClient(&bot))
	return n, nil
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return "slack" }

// Notify delivers m. retry says whether the outbox should try again: yes
// on 429 (the error then has RetryAfter), 5xx and network errors; no when
// a person has to fix the token, the webhook or the channel.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (bool, error) {
	route := n.routes[m.Env]
	channel := n.channel
	if route.Channel != "" {
		channel = route.Channel
	}
	switch {
	case route.WebhookURL != "":
		return n.webhook(ctx, route.WebhookURL, channel, m)
	case n.api != nil:
		return n.bot(ctx, channel, m)
	case n.webhookURL != "":
		return n.webhook(ctx, n.webhookURL, channel, m)
	default:
		return false, fmt.Errorf("slack: no webhook_url or bot_token for environment %q", m.Env)
	}
}
