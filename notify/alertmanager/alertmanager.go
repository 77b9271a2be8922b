// Package alertmanager owns credmon's Alertmanager notifier: alerts posted
// to every configured Alertmanager's API v2, kept alive while the incident
// is open and ended when it resolves.
package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/internal/post"
	"github.com/credmon/credmon/store"
)

// AlertName is the alertname label of every credmon alert.
const AlertName = "CredmonCredential"

// lifetimes is how many restatement rounds an alert outlives: its endsAt
// is this many rounds ahead, so a round or two lost to a network blip or a
// replica's death changes nothing, while an alert whose every credmon is
// gone resolves within minutes (as Prometheus does with 4 × its resend
// interval). The "credmon absent" rule is what pages for that case.
const lifetimes = 4

// Key prefixes in the store: the alerts this notifier has open, and the
// claim of a restatement round.
const (
	kvPrefix    = "alertmanager:alert:"
	claimPrefix = "alertmanager:repost:"
)

// StatePrefixes are the KV prefixes of the open alerts, for a store that
// must restore them (store/fallback's Reseed): a Redis restarted empty
// must not let live alerts lapse in Alertmanager.
var StatePrefixes = []string{kvPrefix}

// Options configure a Notifier.
type Options struct {
	URLs []string // base URLs; every one receives every alert
	// RunbookURL is the runbook_url annotation; {{cause}} and {{env}} are
	// replaced. Empty for none.
	RunbookURL string
	// GeneratorURL is each alert's link back: the status page. Empty for
	// none.
	GeneratorURL string
	RepostEvery  time.Duration // default config.DefaultAlertmanagerRepost
	// KV holds the open alerts, so any replica can restate them, also
	// after the one that posted them is gone. Required.
	KV store.KV
	// Claims, when set, lets one replica restate per round rather than
	// each; restating twice is harmless, so it is only economy.
	Claims store.Claims
	Owner  string // this replica, for Claims
	// Open lists the open incidents (incident key → since). An alert
	// whose incident is not among them is ended by the next round: the
	// safety net for a resolution never sent (alerting.send_resolved:
	// false) or a check removed from the configuration. Nil trusts the
	// stored alerts.
	Open       func(ctx context.Context) (map[string]time.Time, error)
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Notifier posts credmon's incidents as Alertmanager alerts.
type Notifier struct {
	urls     []string // …/api/v2/alerts
	targets  []string
	runbook  string
	gen      string
	every    time.Duration
	kv       store.KV
	claims   store.Claims
	owner    string
	open     func(context.Context) (map[string]time.Time, error)
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time
	lastLoop string // the last restatement failure, logged once per change
}

var (
	_ notify.Notifier = (*Notifier)(nil)
	_ notify.Runner   = (*Notifier)(nil)
)

// New validates opts.
func New(opts Options) (*Notifier, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("alertmanager: no urls")
	}
	if opts.KV == nil {
		return nil, errors.New("alertmanager: no store for open alerts")
	}
	n := &Notifier{
		runbook: opts.RunbookURL, gen: opts.GeneratorURL, every: opts.RepostEvery,
		kv: opts.KV, claims: opts.Claims, owner: opts.Owner, open: opts.Open,
		http: post.Client(opts.HTTPClient), log: opts.Logger, now: opts.Now,
	}
	if n.every <= 0 {
		n.every = config.DefaultAlertmanagerRepost
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if n.now == nil {
		n.now = time.Now
	}
	if n.owner == "" {
		n.owner = "alertmanager"
	}
	for _, raw := range opts.URLs {
		u, err := post.Endpoint(raw)
		if err != nil {
			return nil, fmt.Errorf("alertmanager: %s: %w", redact.URL(raw), err)
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/alerts"
		n.urls = append(n.urls, u.String())
		n.targets = append(n.targets, "alertmanager "+u.Host)
	}
	return n, nil
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return config.NotifierAlertmanager }

// Alert is a postable alert of Alertmanager's API v2.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// entry is an alert as the store keeps it: firing while Resolved is
// false (its endsAt is set afresh at each post), else the resolution,
// restated until every Alertmanager has surely heard it.
type entry struct {
	Alert    Alert     `json:"alert"`
	Since    time.Time `json:"since"` // the incident's start, to tell it from a later one of the same key
	Resolved bool      `json:"resolved,omitempty"`
}

// Notify posts m's alert to every Alertmanager. It records the alert in the
// store first and posts after, so a restatement that races with it ends
// with what Notify wrote (see round). A change of cause changes the
// alert's labels, so the old alert is ended and a new one fires. A
// rotation report is not an alert and is not sent.
//
// A failure at one Alertmanager fails the delivery, and the outbox retries
// it at all of them: posting an alert again is harmless, since
// Alertmanager merges alerts with the same labels (and its notification
// log keeps the receivers from hearing it twice).
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (bool, error) {
	if m.Event.Report() || m.IncidentKey == "" {
		return false, nil
	}
	key := kvPrefix + m.IncidentKey
	prev, err := n.get(ctx, key)
	if err != nil {
		return true, err
	}
	now := n.now()
	var out []Alert
	if m.Event == notify.EventResolved {
		a := n.alert(m)
		if prev != nil && !prev.Resolved {
			a = prev.Alert
		}
		a.EndsAt = later(m.At, a.StartsAt)
		if err := n.put(ctx, key, entry{Alert: a, Since: m.Since, Resolved: true}); err != nil {
			return true, err
		}
		out = append(out, a)
	} else {
		a := n.alert(m)
		if prev != nil && !prev.Resolved {
			if sameLabels(prev.Alert.Labels, a.Labels) {
				a.StartsAt = prev.Alert.StartsAt
			} else {
				// The labels are the alert's identity: a new cause is a new
				// alert, and the old one ends now.
				old := prev.Alert
				old.EndsAt = later(m.At, old.StartsAt)
				out = append(out, old)
				a.StartsAt = later(m.At, m.Since)
			}
		}
		if err := n.put(ctx, key, entry{Alert: a, Since: m.Since}); err != nil {
			return true, err
		}
		a.EndsAt = now.Add(lifetimes * n.every)
		out = append(out, a)
	}
	return n.post(ctx, out)
}

// alert builds m's alert from scratch: labels from the incident's cause,
// annotations from what the message says.
func (n *Notifier) alert(m notify.Message) Alert {
	cause := notify.AlertCause(m)
	labels := map[string]string{
		"alertname": AlertName,
		"cause":     string(cause),
		"severity":  notify.Severity(cause),
	}
	subject := m.Check
	if m.Check != "" {
		labels["check"] = m.Check
	} else if m.Credential != "" {
		labels["credential"] = m.Credential
		subject = "credential " + m.Credential
	}
	if m.Env != "" {
		labels["env"] = m.Env
	}
	ann := map[string]string{"summary": summary(m.Env, subject, cause, m.HTTPStatus)}
	desc := m.Detail
	if m.Event == notify.EventResolved {
		// A resolution's text says it is over; the alert describes the
		// problem, which the opening's annotations (kept in the store)
		// describe better when there are any.
		desc = ""
	}
	if m.Identity != "" && desc != "" {
		desc += " Credential: " + m.Identity + "."
	}
	if desc != "" {
		ann["description"] = desc
	}
	if m.Hint != "" && m.Event != notify.EventResolved {
		ann["fix"] = m.Hint
	}
	if n.runbook != "" {
		ann["runbook_url"] = strings.NewReplacer("{{cause}}", url.PathEscape(string(cause)), "{{env}}", url.PathEscape(m.Env)).Replace(n.runbook)
	}
	return Alert{Labels: labels, Annotations: ann, StartsAt: m.Since, GeneratorURL: n.gen}
}

func summary(env, subject string, cause checks.Cause, status int) string {
	s := subject + ": " + string(cause)
	if env != "" {
		s = "[" + env + "] " + s
	}
	if status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", status)
	}
	return s
}

// later is the later of t and floor (Alertmanager refuses an alert that
// ends before it starts); a zero t is floor.
func later(t, floor time.Time) time.Time {
	if t.Before(floor) {
		return floor
	}
	return t
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func (n *Notifier) get(ctx context.Context, key string) (*entry, error) {
	raw, err := n.kv.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alertmanager: read open alert: %w", err)
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		// Unreadable (a newer version's?): start afresh rather than stall.
		return nil, nil
	}
	return &e, nil
}

// put stores e; a resolution lives as long as a firing alert could still
// be alive at some Alertmanager, and is restated until then.
func (n *Notifier) put(ctx context.Context, key string, e entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("alertmanager: encode alert: %w", err)
	}
	if err := n.kv.Set(ctx, key, raw, n.ttl(e)); err != nil {
		return fmt.Errorf("alertmanager: store open alert: %w", err)
	}
	return nil
}

func (n *Notifier) ttl(e entry) time.Duration {
	if e.Resolved {
		return (lifetimes + 1) * n.every
	}
	return 0
}

// post sends alerts to every Alertmanager at once. The error, if any,
// names each one that failed; it is retryable when any failure is, and
// carries the longest Retry-After asked for.
func (n *Notifier) post(ctx context.Context, alerts []Alert) (bool, error) {
	if len(alerts) == 0 {
		return false, nil
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return false, fmt.Errorf("alertmanager: encode alerts: %w", err)
	}
	errs := make([]error, len(n.urls))
	var wg sync.WaitGroup
	for i := range n.urls {
		wg.Go(func() {
			_, errs[i] = post.Send(ctx, n.http, post.Request{URL: n.urls[i], Target: n.targets[i], Body: body})
		})
	}
	wg.Wait()
	pe := &PostError{}
	for _, e := range errs {
		if e == nil {
			continue
		}
		pe.Errs = append(pe.Errs, e)
		var p *post.Error
		if errors.As(e, &p) {
			pe.retry = pe.retry || p.Retryable
			pe.after = max(pe.after, p.After)
		}
	}
	if len(pe.Errs) == 0 {
		return false, nil
	}
	return pe.retry, pe
}

// PostError is a delivery that failed at one Alertmanager or more.
type PostError struct {
	Errs  []error
	retry bool
	after time.Duration
}

func (e *PostError) Error() string {
	parts := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap exposes each Alertmanager's error.
func (e *PostError) Unwrap() []error { return e.Errs }

// RetryAfter implements notify.RetryAfter: the longest any asked for.
func (e *PostError) RetryAfter() time.Duration { return e.after }
