package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/credmon/credmon/checks/redact"
)

// KnownCauses lists the cause codes a route may match. checks owns them
// (checks.AllCauses) but imports config, so config keeps this copy, and
// notify's route test fails when the two differ.
func KnownCauses() []string {
	return []string{
		"ok", "missing_credential", "malformed_credential", "unauthorized",
		"invalid_token", "token_expired", "revoked", "insufficient_scope",
		"forbidden", "wrong_environment", "token_endpoint_rejected",
		"token_expiring", "rotation_due", "rotation_overdue",
		"previous_key_still_valid", "pending_key_rejected", "rotation_disabled", "clock_skew", "server_clock_skew",
		"missing_challenge", "unexpected_status", "unreachable",
	}
}

var (
	routeStatuses   = []string{"ok", "warn", "fail", "error"}
	routeSeverities = []string{"critical", "warning", "info"}
	// runbookVars are the placeholders runbook_url may hold.
	runbookVars    = []string{"{{cause}}", "{{env}}"}
	runbookPattern = regexp.MustCompile(`\{\{[^}]*\}\}`)
)

// endpointProblem judges a notifier endpoint that is not a secret: an
// absolute http(s) URL without credentials in it.
func endpointProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		shown := raw
		if err != nil || u.User != nil {
			shown = redact.URL(raw)
		}
		return fmt.Sprintf("invalid url %q (use an absolute http:// or https:// URL)", shown)
	case u.User != nil:
		return "credentials in the URL are not supported (they would be logged with it)"
	}
	return ""
}

// secretEndpoint additionally refuses plain http to another machine for
// an endpoint a secret is sent to.
func (v *validator) secretEndpoint(path, raw, what string) {
	if msg := endpointProblem(raw); msg != "" {
		v.errorf(path, ErrInvalid, "%s", msg)
		return
	}
	if u, _ := url.Parse(raw); u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		v.errorf(path, ErrInvalid, "%s would be sent over plain http to %s; use https (plain http is for this machine only)", what, u.Hostname())
	}
}

func (v *validator) alertmanager() {
	a := v.c.Notify.Alertmanager
	if a == nil {
		return
	}
	if len(a.URLs) == 0 {
		v.errorf("notify.alertmanager.urls", ErrRequired, "list at least one Alertmanager URL, e.g. [\"http://alertmanager:9093\"]")
	}
	seen := map[string]int{}
	for i, u := range a.URLs {
		p := fmt.Sprintf("notify.alertmanager.urls[%d]", i)
		if msg := endpointProblem(u); msg != "" {
			v.errorf(p, ErrInvalid, "%s", msg)
			continue
		}
		if strings.Contains(u, "/api/") {
			v.errorf(p, ErrInvalid, "give Alertmanager's base URL (like http://alertmanager:9093), not an API path: credmon adds /api/v2/alerts")
		}
		if j, dup := seen[u]; dup {
			v.errorf(p, ErrDuplicate, "same URL as urls[%d]", j)
		}
		seen[u] = i
	}
	if r := a.RunbookURL; r != "" {
		if msg := endpointProblem(strings.NewReplacer("{{cause}}", "cause", "{{env}}", "env").Replace(r)); msg != "" {
			v.errorf("notify.alertmanager.runbook_url", ErrInvalid, "%s", msg)
		}
		for _, ph := range runbookPattern.FindAllString(r, -1) {
			if !slices.Contains(runbookVars, ph) {
				v.errorf("notify.alertmanager.runbook_url", ErrInvalid, "unknown placeholder %s (use %s)", ph, strings.Join(runbookVars, " or "))
			}
		}
	}
	v.positive("notify.alertmanager.repost_every", a.RepostEvery)
}

func (v *validator) pagerduty() {
	p := v.c.Notify.PagerDuty
	if p == nil {
		return
	}
	if !p.RoutingKey.IsSet() {
		v.errorf("notify.pagerduty.routing_key", ErrRequired, "required: the integration key of a PagerDuty Events API v2 integration, e.g. {env: PD_ROUTING_KEY}")
	}
	v.secretEndpoint("notify.pagerduty.url", p.URL, "the routing key")
}

func (v *validator) webhook() {
	w := v.c.Notify.Webhook
	if w == nil {
		return
	}
	if w.URL == "" {
		v.errorf("notify.webhook.url", ErrRequired, "required")
	} else if msg := endpointProblem(w.URL); msg != "" {
		v.errorf("notify.webhook.url", ErrInvalid, "%s", msg)
	}
	if !w.Secret.IsSet() {
		v.errorf("notify.webhook.secret", ErrRequired, "required: receivers verify the X-Credmon-Signature made with it, e.g. {env: WEBHOOK_SECRET}")
	}
}

func (v *validator) routes() {
	configured := v.c.Notify.Configured()
	for i, r := range v.c.Notify.Routes {
		p := fmt.Sprintf("notify.routes[%d]", i)
		if r == nil {
			v.errorf(p, ErrRequired, "empty route (give match and to)")
			continue
		}
		m := r.Match
		if m.Env != "" {
			if _, ok := v.c.Environments[m.Env]; !ok {
				v.errorf(p+".match.env", ErrReference, "unknown environment %q%s", m.Env, didYouMean(m.Env, v.envNames()))
			}
		}
		oneOf := func(field, val string, allowed []string) {
			if val != "" && !slices.Contains(allowed, val) {
				v.errorf(p+".match."+field, ErrInvalid, "unknown %s %q%s (one of %s)", field, val, didYouMean(val, allowed), strings.Join(allowed, ", "))
			}
		}
		oneOf("cause", m.Cause, KnownCauses())
		oneOf("status", m.Status, routeStatuses)
		oneOf("severity", m.Severity, routeSeverities)
		if len(r.To) == 0 {
			v.errorf(p+".to", ErrRequired, "name at least one notifier (configured: %s)", listOrNone(configured))
		}
		for j, name := range r.To {
			tp := fmt.Sprintf("%s.to[%d]", p, j)
			switch {
			case slices.Contains(configured, name):
			case name == "console":
				v.errorf(tp, ErrReference, "the console logs every transition and is not routed; remove it from to")
			case slices.Contains([]string{NotifierSlack, NotifierAlertmanager, NotifierPagerDuty, NotifierWebhook}, name):
				v.errorf(tp, ErrReference, "notifier %q is not configured (add notify.%s)", name, name)
			default:
				v.errorf(tp, ErrReference, "unknown notifier %q%s (configured: %s)", name, didYouMean(name, configured), listOrNone(configured))
			}
		}
	}
}

func (v *validator) envNames() []string {
	out := make([]string, 0, len(v.c.Environments))
	for n := range v.c.Environments {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func didYouMean(got string, candidates []string) string {
	if s := suggest(got, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
