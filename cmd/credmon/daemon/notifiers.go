package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/alertmanager"
	"github.com/credmon/credmon/notify/pagerduty"
	"github.com/credmon/credmon/notify/webhook"
	"github.com/credmon/credmon/store"
)

// newNotifiers builds the notifiers beyond the console and Slack from
// cfg.Notify, each with its secrets resolved now.
func (d *Daemon) newNotifiers(cfg *config.Config) ([]notify.Notifier, error) {
	var out []notify.Notifier
	status := strings.TrimSuffix(cfg.Server.ExternalURL, "/")
	if status != "" {
		status += "/"
	}
	if ac := cfg.Notify.Alertmanager; ac != nil {
		n, err := alertmanager.New(alertmanager.Options{
			URLs:         ac.URLs,
			RunbookURL:   ac.RunbookURL,
			GeneratorURL: status,
			RepostEvery:  ac.RepostEvery.D(),
			KV:           d.store,
			Claims:       d.store,
			Owner:        d.instance,
			Open:         d.openIncidents,
			Logger:       d.log,
		})
		if err != nil {
			return nil, fmt.Errorf("notify.alertmanager: %w", err)
		}
		out = append(out, n)
	}
	if pc := cfg.Notify.PagerDuty; pc != nil {
		key, err := pc.RoutingKey.Resolve()
		if err != nil {
			return nil, fmt.Errorf("notify.pagerduty.routing_key: %w", err)
		}
		n, err := pagerduty.New(pagerduty.Options{RoutingKey: key.Text, URL: pc.URL, ClientURL: status})
		if err != nil {
			return nil, fmt.Errorf("notify.pagerduty: %w", err)
		}
		out = append(out, n)
	}
	if wc := cfg.Notify.Webhook; wc != nil {
		secret, err := wc.Secret.Resolve()
		if err != nil {
			return nil, fmt.Errorf("notify.webhook.secret: %w", err)
		}
		n, err := webhook.New(webhook.Options{URL: wc.URL, Secret: secret.Text, StatusURL: status})
		if err != nil {
			return nil, fmt.Errorf("notify.webhook: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// openIncidents lists the open incidents by key, with their start, for
// Alertmanager's restatement.
// A record that does not read is logged and left out, so its alert
// ends like any incident no longer open: its state is lost, and the
// subject's next result starts afresh. Failing the round instead would let
// every other open alert lapse.
func (d *Daemon) openIncidents(ctx context.Context) (map[string]time.Time, error) {
	open, err := d.incidents.Open(ctx)
	if damaged := (*store.DamagedError)(nil); errors.As(err, &damaged) {
		d.log.Warn("open incidents listed without the stored ones that do not read", "err", err)
	} else if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(open))
	for _, in := range open {
		out[in.Key] = in.Since
	}
	return out, nil
}

// newRouter turns notify.routes into the dispatcher's router; nil when
// there are none, so every message goes to every notifier.
func newRouter(cfg *config.Config) *notify.Router {
	if len(cfg.Notify.Routes) == 0 {
		return nil
	}
	routes := make([]notify.Route, 0, len(cfg.Notify.Routes))
	for _, r := range cfg.Notify.Routes {
		if r == nil {
			continue
		}
		routes = append(routes, notify.Route{
			Match: notify.Matcher{
				Env:      r.Match.Env,
				Cause:    checks.Cause(r.Match.Cause),
				Status:   checks.Status(r.Match.Status),
				Severity: r.Match.Severity,
			},
			To:       r.To,
			Continue: r.Continue,
		})
	}
	return notify.NewRouter(routes)
}

// unrouted are the notifiers routes do not apply to: the console, which
// logs every transition, and those the embedding program added.
func (d *Daemon) unrouted() []string {
	out := []string{d.console.Name()}
	for _, n := range d.opts.Notifiers {
		out = append(out, n.Name())
	}
	return out
}
