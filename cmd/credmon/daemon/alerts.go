package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/slack"
	"github.com/credmon/credmon/store"
)

// setupAlerts builds the incident engine, the notifiers and the dispatcher
// that delivers through the store's outbox.
func (d *Daemon) setupAlerts(cfg *config.Config) error {
	a := cfg.Alerting
	d.incidents = notify.NewIncidents(d.store, notify.IncidentOptions{
		FailureThreshold: a.FailureThreshold,
		SuccessThreshold: a.SuccessThreshold,
		RemindEvery:      a.RemindEvery.D(),
		SendResolved:     a.SendResolved,
		Owner:            d.instance,
	})
	var notifiers []notify.Notifier
	if cfg.Notify.Console == nil || *cfg.Notify.Console {
		notifiers = append(notifiers, d.console)
	}
	if sc := cfg.Notify.Slack; sc != nil {
		n, err := d.newSlack(cfg, sc)
		if err != nil {
			return fmt.Errorf("notify.slack: %w", err)
		}
		notifiers = append(notifiers, n)
	}
	more, err := d.newNotifiers(cfg)
	if err != nil {
		return err
	}
	notifiers = append(notifiers, more...)
	notifiers = append(notifiers, d.opts.Notifiers...)
	if len(notifiers) == 0 {
		return nil
	}
	d.dispatcher = notify.NewDispatcher(d.store, notifiers, notify.DispatcherOptions{
		Owner:    d.instance,
		Logger:   d.log,
		Router:   newRouter(cfg),
		Unrouted: d.unrouted(),
		// One round of retries a minute at most: after a long Slack outage
		// the backlog goes out within a minute of recovery, not five.
		MaxBackoff: time.Minute,
		Metrics:    d.notifyMetrics,
		Silences:   d.silences,
	})
	return nil
}

// MaintenanceWindows turns the configured windows into notify's; the
// configuration was validated, so what does not parse is skipped.
func MaintenanceWindows(cfg *config.Config) []notify.Window {
	var out []notify.Window
	for _, m := range cfg.Maintenance {
		if m == nil {
			continue
		}
		w := notify.Window{
			Match:   notify.SilenceMatch{Env: m.Match.Env, Check: m.Match.Check, Credential: m.Match.Credential},
			Comment: m.Comment,
		}
		if m.End != "" {
			start, err1 := config.ParseTime(m.Start)
			end, err2 := config.ParseTime(m.End)
			if err1 != nil || err2 != nil {
				continue
			}
			w.Start, w.End = start.Time, end.Time
		} else {
			every, err := schedule.Parse(m.Start)
			if err != nil {
				continue
			}
			w.Every, w.Duration = every, m.Duration.D()
		}
		out = append(out, w)
	}
	return out
}

func (d *Daemon) newSlack(cfg *config.Config, sc *config.Slack) (*slack.Notifier, error) {
	resolve := func(s config.Secret) (string, error) {
		if !s.IsSet() {
			return "", nil
		}
		v, err := s.Resolve()
		return v.Text, err
	}
	opts := slack.Options{Channel: sc.Channel, APIURL: sc.APIURL, Threads: slack.KVThreads(d.store), Logger: d.log, Routes: map[string]slack.Route{}}
	var err error
	if opts.WebhookURL, err = resolve(sc.WebhookURL); err != nil {
		return nil, err
	}
	if opts.BotToken, err = resolve(sc.BotToken); err != nil {
		return nil, err
	}
	for name, env := range cfg.Environments {
		if env.Slack == nil {
			continue
		}
		r := slack.Route{Channel: env.Slack.Channel}
		if r.WebhookURL, err = resolve(env.Slack.WebhookURL); err != nil {
			return nil, fmt.Errorf("environments.%s.slack: %w", name, err)
		}
		opts.Routes[name] = r
	}
	return slack.New(opts)
}

// observe feeds a result to the incident engine and sends what it opens,
// reminds, changes or resolves.
func (d *Daemon) observe(ctx context.Context, r checks.Result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	msgs, err := d.incidents.Observe(ctx, r)
	switch damaged := (*store.DamagedError)(nil); {
	case errors.As(err, &damaged):
		// Observe wrote fresh state over it: this result is applied.
		d.log.Warn("stored incident state did not read and was started afresh; the earlier state is lost", "check", r.Key(), "err", err)
	case err != nil:
		d.log.Warn("incident state not updated", "check", r.Key(), "err", err)
	}
	for _, m := range msgs {
		d.notify(ctx, m)
	}
}

// notify hands a message to the outbox; without notifiers it is logged.
func (d *Daemon) notify(ctx context.Context, m notify.Message) {
	if d.dispatcher == nil {
		return
	}
	if err := d.dispatcher.Enqueue(ctx, m); err != nil {
		// The outbox is the store: if it refuses, say so loudly on the
		// console rather than lose the message silently.
		d.log.Error("notification could not be queued", "incident", m.IncidentKey, "event", m.Event, "err", err)
		_, _ = d.console.Notify(ctx, m)
	}
}

func durations(ds []config.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.D()
	}
	return out
}
