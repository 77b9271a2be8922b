package fakeslack

import (
	"fmt"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/notify"
)

// Events is the life of every incident Incidents builds, in the order the
// incident engine emits them and Slack must show them.
var Events = []notify.Event{notify.EventOpened, notify.EventReminder, notify.EventCauseChanged, notify.EventResolved}

// checkNames are realistic subjects; more incidents than names get numbered ones.
var checkNames = []string{"payments-account", "billing-me", "search-api", "ledger-sync", "kyc-verify", "shipping-rates", "crm-export", "tax-quotes"}

// Incidents returns n incidents' messages, each incident's four in Events
// order, incidents interleaved by event (every opening first, as an outage
// that hits many checks at once produces them). IDs are deterministic and
// shaped like the incident engine's, so a rerun enqueues the same entries.
func Incidents(n int, since time.Time) []notify.Message {
	since = since.UTC().Truncate(time.Second)
	out := make([]notify.Message, 0, 4*n)
	for seq, ev := range Events {
		for i := range n {
			out = append(out, message(i, seq+1, ev, since))
		}
	}
	return out
}

// ByIncident groups msgs by IncidentKey, keeping their order.
func ByIncident(msgs []notify.Message) map[string][]notify.Message {
	out := make(map[string][]notify.Message)
	for _, m := range msgs {
		out[m.IncidentKey] = append(out[m.IncidentKey], m)
	}
	return out
}

func message(i, seq int, ev notify.Event, since time.Time) notify.Message {
	check := fmt.Sprintf("check-%02d", i)
	if i < len(checkNames) {
		check = checkNames[i]
	}
	key := "prod/" + check + "/" + notify.FamilyAuth
	exp := since.Add(-2 * time.Minute)
	iat := exp.Add(-time.Hour)
	m := notify.Message{
		ID:          fmt.Sprintf("%s/%d-%d-%s", key, since.UnixMilli(), seq, ev),
		IncidentKey: key,
		Event:       ev,
		Since:       since,
		Env:         "prod",
		Check:       check,
		Credential:  check + "-client",
		Identity:    "oauth2_client_credentials credmon-prod (Authorization: Bearer)",
		Status:      checks.StatusFail,
		Cause:       checks.CauseInvalidToken,
		HTTPStatus:  401,
		Detail:      "The API rejected the access token: invalid_token (\"The access token expired\").",
		Hint:        "The token endpoint issued a token the API no longer accepts; check the API's clock and the token lifetime.",
		Challenge: &challenge.Challenge{
			Scheme: "Bearer", Realm: "api", Error: "invalid_token",
			ErrorDescription: "The access token expired",
		},
		Token: &checks.TokenInfo{
			Issuer: "https://auth.example.com/", Audience: []string{"https://api.example.com"},
			ExpiresAt: &exp, IssuedAt: &iat,
		},
	}
	switch ev {
	case notify.EventOpened:
		m.At = since
	case notify.EventReminder:
		m.At = since.Add(4 * time.Hour)
	case notify.EventCauseChanged:
		m.At = since.Add(5 * time.Hour)
		m.PrevCause, m.Cause = checks.CauseInvalidToken, checks.CauseRevoked
		m.Detail = "Still 401 after a fresh token was obtained and the request retried once."
		m.Hint = "The client was revoked or disabled at the identity provider; issue a new client secret."
	case notify.EventResolved:
		m.At = since.Add(6 * time.Hour)
		m.Status, m.Cause, m.PrevCause = checks.StatusOK, checks.CauseOK, checks.CauseRevoked
		m.HTTPStatus = 200
		m.Detail = "The check passes again."
		m.Hint, m.Challenge = "", nil
	}
	return m
}
