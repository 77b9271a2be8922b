// Package webhook owns credmon's generic webhook notifier: a versioned JSON
// body (docs/webhook.md) signed with HMAC-SHA256 so a receiver can verify it.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/internal/post"
)

// Version is the body's version field. Fields may be added within a
// version; a change that removes or redefines one is a new version.
const Version = "1"

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
// under the shared secret.
const SignatureHeader = "X-Credmon-Signature"

// Options configure a Notifier.
type Options struct {
	URL        string
	Secret     string // secret: the HMAC key
	StatusURL  string // the status page, sent as status_url; empty for none
	HTTPClient *http.Client
}

// Notifier posts every message to one URL.
type Notifier struct {
	url       string
	target    string
	secret    []byte
	statusURL string
	http      *http.Client
	secrets   *redact.Set
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates opts. Its errors never contain the secret.
func New(opts Options) (*Notifier, error) {
	if opts.Secret == "" {
		return nil, errors.New("webhook: secret is empty")
	}
	u, err := post.Endpoint(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook: url: %w", err)
	}
	return &Notifier{
		url:       opts.URL,
		target:    "webhook " + u.Host,
		secret:    []byte(opts.Secret),
		statusURL: opts.StatusURL,
		http:      post.Client(opts.HTTPClient),
		secrets:   redact.NewSet(opts.Secret),
	}, nil
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return config.NotifierWebhook }

// Notify posts m, signed. Any 2xx is success; 408, 429 (honouring
// Retry-After), 5xx and network errors are retried; another 4xx or a
// redirect waits for a person.
func (n *Notifier) Notify(ctx context.Context, m notify.Message) (bool, error) {
	body, err := json.Marshal(NewBody(m, n.statusURL))
	if err != nil {
		return false, fmt.Errorf("webhook: encode body: %w", err)
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(n.secret, body))
	h.Set("User-Agent", "credmon-webhook/"+Version)
	return post.Send(ctx, n.http, post.Request{URL: n.url, Target: n.target, Body: body, Header: h, Secrets: n.secrets})
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig is the signature of body under secret, in
// constant time: what a receiver written in Go does.
func Verify(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// Body is what the webhook posts, documented field by field in
// docs/webhook.md. It holds no secret: the credential appears only as its
// redacted identity.
type Body struct {
	Version     string        `json:"version"`
	ID          string        `json:"id"`           // unique per transition: deduplicate on it
	IncidentKey string        `json:"incident_key"` // stable for the incident, across restarts and replicas
	Event       notify.Event  `json:"event"`        // opened | reminder | cause_changed | band | resolved | rotated
	At          time.Time     `json:"at"`
	Since       time.Time     `json:"since,omitzero"`
	Env         string        `json:"env"`
	Check       string        `json:"check,omitempty"`
	Credential  string        `json:"credential,omitempty"`
	Identity    string        `json:"identity,omitempty"`
	Status      checks.Status `json:"status"`
	Cause       checks.Cause  `json:"cause"`
	PrevCause   checks.Cause  `json:"previous_cause,omitempty"`
	Severity    string        `json:"severity"` // of the incident's cause: critical | warning | info
	HTTPStatus  int           `json:"http_status,omitempty"`
	Detail      string        `json:"detail"`
	Fix         string        `json:"fix,omitempty"`
	Band        string        `json:"band,omitempty"`
	Findings    []Finding     `json:"findings,omitempty"`
	Challenge   *Challenge    `json:"challenge,omitempty"`
	Token       *Token        `json:"token,omitempty"`
	StatusURL   string        `json:"status_url,omitempty"`
}

// Finding is a secondary cause reported alongside the main one.
type Finding struct {
	Cause  checks.Cause `json:"cause"`
	Detail string       `json:"detail"`
	Fix    string       `json:"fix,omitempty"`
}

// Challenge is the server's WWW-Authenticate, parsed.
type Challenge struct {
	Scheme           string `json:"scheme"`
	Realm            string `json:"realm,omitempty"`
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
	Scope            string `json:"scope,omitempty"`
}

// Token holds the claims of the token used that matter, never the token.
type Token struct {
	Issuer    string     `json:"iss,omitempty"`
	Audience  []string   `json:"aud,omitempty"`
	ExpiresAt *time.Time `json:"exp,omitempty"`
	IssuedAt  *time.Time `json:"iat,omitempty"`
	NotBefore *time.Time `json:"nbf,omitempty"`
}

// NewBody builds the body of m.
func NewBody(m notify.Message, statusURL string) Body {
	b := Body{
		Version: Version, ID: m.ID, IncidentKey: m.IncidentKey, Event: m.Event,
		At: m.At.UTC(), Env: m.Env, Check: m.Check, Credential: m.Credential, Identity: m.Identity,
		Status: m.Status, Cause: m.Cause, PrevCause: m.PrevCause,
		Severity:   notify.Severity(notify.AlertCause(m)),
		HTTPStatus: m.HTTPStatus, Detail: m.Detail, Fix: m.Hint, Band: m.Band.Label,
		StatusURL: statusURL,
	}
	if !m.Since.IsZero() {
		b.Since = m.Since.UTC()
	}
	for _, f := range m.Findings {
		b.Findings = append(b.Findings, Finding{Cause: f.Cause, Detail: f.Detail, Fix: f.Hint})
	}
	if c := m.Challenge; c != nil {
		b.Challenge = challengeOf(c)
	}
	if t := m.Token; t != nil {
		b.Token = &Token{Issuer: t.Issuer, Audience: t.Audience, ExpiresAt: t.ExpiresAt, IssuedAt: t.IssuedAt, NotBefore: t.NotBefore}
	}
	return b
}

func challengeOf(c *challenge.Challenge) *Challenge {
	return &Challenge{Scheme: c.Scheme, Realm: c.Realm, Error: c.Error, ErrorDescription: c.ErrorDescription, Scope: c.Scope}
}
