// Package pagerduty owns credmon's PagerDuty notifier: Events API v2
// trigger and resolve, keyed by the incident so a restart or another
// replica updates the same PagerDuty alert instead of opening a second.
package pagerduty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/internal/post"
)

// Limits of the Events API v2.
const (
	maxDedupKey = 255
	maxSummary  = 1024
)

// Options configure a Notifier.
type Options struct {
	RoutingKey string // secret: the integration key
	URL        string // default config.DefaultPagerDutyURL
	// ClientURL is the status page, linked from the PagerDuty alert;
	// empty for none.
	ClientURL  string
	HTTPClient *http.Client // its transport and timeout; redirects are never followed
}

// Notifier sends credmon's incidents to PagerDuty.
type Notifier struct {
	key       string
	url       string
	target    string // the endpoint as errors name it
	clientURL string
	http      *http.Client
	secrets   *redact.Set
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates opts. Its errors never contain the routing key.
func New(opts Options) (*Notifier, error) {
	if opts.RoutingKey == "" {
		return nil, errors.New("pagerduty: routing_key is empty")
	}
	if strings.ContainsAny(opts.RoutingKey, " \t\r\n") {
		return nil, errors.New("pagerduty: routing_key contains whitespace (a stray newline from a file?)")
	}
	if opts.URL == "" {
		opts.URL = config.DefaultPagerDutyURL
	}
	u, err := post.Endpoint(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("pagerduty: url: %w", err)
	}
	if u.Scheme == "http" && !config.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("pagerduty: url: the routing key would be sent over plain http to %s; use https", u.Hostname())
	}
	return &Notifier{
		key:       opts.RoutingKey,
		url:       opts.URL,
		target:    "pagerduty " + u.Host,
		clientURL: opts.ClientURL,
		http:      post.Client(opts.HTTPClient),
		secrets:   redact.NewSet(opts.RoutingKey),
	}, nil
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return config.NotifierPagerDuty }

// Notify triggers or resolves the PagerDuty alert of m's incident. A
// rotation report is not an incident and is not sent. retry is true for
// 429 (with its Retry-After when PagerDuty gives one), 5xx and network
// errors; a 400 (an event PagerDuty finds invalid, a bad routing key)
// needs a person.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (bool, error) {
	ev, ok := n.event(m)
	if !ok {
		return false, nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("pagerduty: encode event: %w", err)
	}
	return post.Send(ctx, n.http, post.Request{URL: n.url, Target: n.target, Body: body, Secrets: n.secrets})
}

// Event is an Events API v2 request.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"` // trigger | resolve
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"` // required for trigger
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
	Links       []Link   `json:"links,omitempty"`
}

// Payload describes the alert of a trigger.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical | error | warning | info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link shown on the PagerDuty alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// event builds the request for m; false when m is not sent.
func (n *Notifier) event(m notify.Message) (Event, bool) {
	ev := Event{RoutingKey: n.key, DedupKey: DedupKey(m.IncidentKey), Client: "credmon", ClientURL: n.clientURL}
	if n.clientURL != "" {
		ev.Links = []Link{{Href: n.clientURL, Text: "credmon status page"}}
	}
	if m.Event.Report() {
		return ev, false
	}
	switch m.Event {
	case notify.EventResolved:
		ev.EventAction = "resolve"
		return ev, true
	}
	ev.EventAction = "trigger"
	subject := m.Check
	if subject == "" {
		subject = m.Credential
	}
	if subject == "" {
		subject = "credmon"
	}
	source, summary := subject, fmt.Sprintf("%s: %s", subject, m.Cause)
	if m.Env != "" {
		source, summary = m.Env+"/"+subject, "["+m.Env+"] "+summary
	}
	if m.Detail != "" {
		summary += " — " + m.Detail
	}
	details := map[string]any{
		"event": string(m.Event),
		"env":   m.Env,
		"cause": string(m.Cause),
	}
	put := func(k, v string) {
		if v != "" {
			details[k] = v
		}
	}
	put("check", m.Check)
	put("credential", m.Credential)
	put("identity", m.Identity) // redacted: vendor prefix and last 4 at most
	put("previous_cause", string(m.PrevCause))
	put("detail", m.Detail)
	put("fix", m.Hint)
	put("band", m.Band.Label)
	if m.HTTPStatus != 0 {
		details["http_status"] = m.HTTPStatus
	}
	if !m.Since.IsZero() {
		details["since"] = m.Since.UTC().Format(time.RFC3339)
	}
	var also []string
	for _, f := range m.Findings {
		also = append(also, string(f.Cause))
	}
	if len(also) > 0 {
		details["also"] = also
	}
	ev.Payload = &Payload{
		Summary:       truncate(summary, maxSummary),
		Source:        source,
		Severity:      Severity(m.Cause),
		Component:     subject,
		Group:         m.Env,
		Class:         string(m.Cause),
		CustomDetails: details,
	}
	if !m.At.IsZero() {
		ev.Payload.Timestamp = m.At.UTC().Format(time.RFC3339)
	}
	return ev, true
}

// Severity maps a cause to PagerDuty's severities: a failing credential is
// critical, an API that is down or answers oddly an error, a deadline
// ahead a warning.
func Severity(c checks.Cause) string {
	switch c.Status() {
	case checks.StatusFail:
		return "critical"
	case checks.StatusError:
		return "error"
	case checks.StatusWarn:
		return "warning"
	}
	return "info"
}

// DedupKey is the incident key, which every replica derives alike and
// which survives restarts; one longer than PagerDuty accepts keeps its
// start and ends in a hash of the whole.
func DedupKey(incident string) string {
	if len(incident) <= maxDedupKey {
		return incident
	}
	sum := sha256.Sum256([]byte(incident))
	h := hex.EncodeToString(sum[:])
	return truncate(incident, maxDedupKey-len(h)-1) + "#" + h
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
