package notify

import (
	"slices"

	"github.com/credmon/credmon/checks"
)

// Severities, as Alertmanager labels and route matchers name them.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Severity is the severity of a cause: critical for a failing credential,
// warning for a deadline ahead, info for an error that is not a credential
// problem (the API is down or answers oddly). It follows the cause, not
// the message's status, so an alert keeps one severity from opening to
// resolution.
func Severity(c checks.Cause) string {
	switch c.Status() {
	case checks.StatusFail:
		return SeverityCritical
	case checks.StatusWarn:
		return SeverityWarning
	}
	return SeverityInfo
}

// AlertCause is the cause a message is about as an alert: the cause being
// resolved for a resolution (whose own cause is ok), else its cause.
func AlertCause(m Message) checks.Cause {
	if m.Event == EventResolved && m.PrevCause != "" {
		return m.PrevCause
	}
	return m.Cause
}

// Matcher selects messages; an empty field matches anything.
type Matcher struct {
	Env      string
	Cause    checks.Cause
	Status   checks.Status
	Severity string
}

func (mt Matcher) matches(env string, c checks.Cause) bool {
	return (mt.Env == "" || mt.Env == env) &&
		(mt.Cause == "" || mt.Cause == c) &&
		(mt.Status == "" || mt.Status == c.Status()) &&
		(mt.Severity == "" || mt.Severity == Severity(c))
}

// Route sends the messages it matches to the notifiers it names. Routes
// are tried in order and the first match wins, unless it says Continue.
type Route struct {
	Match    Matcher
	To       []string
	Continue bool
}

// Router decides which notifiers a message goes to. Its answer depends on
// the message alone, so every replica enqueuing a message agrees, and on
// the incident's causes rather than the message's status, so whoever was
// told an incident opened is told it resolved:
//
//   - opened, reminder, band, rotated: the routes of the message's cause;
//   - cause changed: those of the new cause and of the previous one, so
//     the notifiers of the old cause hear that it changed;
//   - resolved: those of every cause of the incident's family, since the
//     incident may have changed cause since it opened, and a notifier that
//     never heard of it ignores the resolution (Alertmanager and PagerDuty
//     do) or is told once that something it did not see is over.
//
// A message no route matches goes to every notifier.
type Router struct {
	routes []Route
}

// NewRouter returns a router over routes, tried in order.
func NewRouter(routes []Route) *Router { return &Router{routes: slices.Clone(routes)} }

// Targets returns the notifier names m is routed to, in route order, and
// whether any route matched; false means every notifier.
func (r *Router) Targets(m Message) (names []string, matched bool) {
	if r == nil || len(r.routes) == 0 {
		return nil, false
	}
	for _, c := range routeCauses(m) {
		for _, rt := range r.routes {
			if !rt.Match.matches(m.Env, c) {
				continue
			}
			matched = true
			for _, n := range rt.To {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			if !rt.Continue {
				break
			}
		}
	}
	return names, matched
}

// routeCauses are the causes whose routes a message follows (see Router).
func routeCauses(m Message) []checks.Cause {
	switch m.Event {
	case EventCauseChanged:
		if m.PrevCause != "" && m.PrevCause != m.Cause {
			return []checks.Cause{m.Cause, m.PrevCause}
		}
	case EventResolved:
		c := AlertCause(m)
		out := []checks.Cause{c}
		if fam := Family(c); fam != "" {
			for _, o := range checks.AllCauses() {
				if o != c && Family(o) == fam {
					out = append(out, o)
				}
			}
		}
		return out
	}
	return []checks.Cause{m.Cause}
}
