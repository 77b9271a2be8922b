// Package notify owns what credmon tells people: incidents and their
// transitions, the messages they produce, and the notifiers that deliver them.
package notify

import (
	"context"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
)

// Event is the kind of transition a message reports.
type Event string

// Events.
const (
	EventOpened       Event = "opened"
	EventReminder     Event = "reminder"
	EventCauseChanged Event = "cause_changed"
	EventResolved     Event = "resolved"
	EventRotated      Event = "rotated"
	// EventPendingVerified tells, once, that a secret store's pending
	// version (a rotation in progress) was verified and works.
	EventPendingVerified Event = "pending_verified"
	// EventBand reports that an open warning incident entered a new band
	// (e.g. from 14d to 7d before expiry); each band is reported once.
	EventBand Event = "band"
)

// Report says whether the event is a report about a credential (a
// rotation, a verified pending version) rather than a transition of an
// incident: chat notifiers say it, alerting systems have nothing to open
// or close for it.
func (e Event) Report() bool { return e == EventRotated || e == EventPendingVerified }

// Message is one notification. It carries no secret: the credential is
// present only as its redacted identity.
type Message struct {
	ID          string    `json:"id"`           // unique per transition; delivery is idempotent on it
	IncidentKey string    `json:"incident_key"` // env/subject/cause-family
	Event       Event     `json:"event"`
	At          time.Time `json:"at"`
	Since       time.Time `json:"since"` // when the incident started

	Env        string           `json:"env"`
	Check      string           `json:"check,omitempty"`
	Credential string           `json:"credential,omitempty"`
	Identity   string           `json:"identity,omitempty"`
	Status     checks.Status    `json:"status"`
	Cause      checks.Cause     `json:"cause"`
	PrevCause  checks.Cause     `json:"prev_cause,omitempty"`
	HTTPStatus int              `json:"http_status,omitempty"`
	Detail     string           `json:"detail"`
	Hint       string           `json:"hint,omitempty"`
	Band       checks.Band      `json:"band,omitzero"`
	Findings   []checks.Finding `json:"findings,omitempty"`

	Challenge *challenge.Challenge `json:"challenge,omitempty"`
	Token     *checks.TokenInfo    `json:"token,omitempty"`
}

// Notifier delivers a message. retry says whether trying again can help
// (a 5xx or a timeout) or not (a bad token, an unknown channel); one retry
// loop, bounded by ctx, serves every notifier.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, m Message) (retry bool, err error)
}
