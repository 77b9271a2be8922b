package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const notifyYAML = `
server: {external_url: "https://credmon.example/"}
notify:
  slack: {webhook_url: {env: SLACK_WEBHOOK_URL}}
  alertmanager: {urls: ["http://127.0.0.1:9093", "http://127.0.0.1:9094"], runbook_url: "https://runbooks.example/{{env}}/{{cause}}"}
  pagerduty: {routing_key: {env: PD_ROUTING_KEY}}
  webhook: {url: "https://hooks.internal/credmon", secret: {env: WEBHOOK_SECRET}}
  routes:
    - {match: {env: prod, status: fail}, to: [pagerduty, slack]}
    - {match: {severity: info}, to: [webhook], continue: true}
    - {to: [slack, alertmanager]}
environments:
  prod: {}
`

func TestNotifiersLoad(t *testing.T) {
	env := fakeEnv(map[string]string{
		"SLACK_WEBHOOK_URL": "https://hooks.slack.invalid/services/TFAKE/BFAKE/FAKEsecretFAKEsecret",
		"PD_ROUTING_KEY":    "FAKEpdROUTINGkey2222222222222222",
		"WEBHOOK_SECRET":    "FAKEwebhookSECRET-2222",
	})
	cfg, err := env.Parse("notify.yaml", []byte(notifyYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ResolveSecrets(); err != nil {
		t.Fatal(err)
	}
	n := cfg.Notify
	if got := n.Configured(); !slices.Equal(got, []string{"slack", "alertmanager", "pagerduty", "webhook"}) {
		t.Errorf("Configured() = %v", got)
	}
	if n.PagerDuty.URL != DefaultPagerDutyURL || n.Alertmanager.RepostEvery.D() != time.Minute {
		t.Errorf("defaults: pagerduty.url %q, repost_every %s", n.PagerDuty.URL, n.Alertmanager.RepostEvery.D())
	}
	if len(n.Routes) != 3 || !n.Routes[1].Continue || n.Routes[0].Match.Status != "fail" || len(n.Routes[2].To) != 2 {
		t.Errorf("routes %+v", n.Routes)
	}
	if p := cfg.Pos("notify.routes[1].match.severity"); p.Line != 10 {
		t.Errorf("position of routes[1].match.severity: %v", p)
	}
	// The secrets of the new notifiers are resolved like every other.
	cfg, err = fakeEnv(nil).Parse("notify.yaml", []byte(notifyYAML))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.ResolveSecrets()
	for _, path := range []string{"notify.pagerduty.routing_key", "notify.webhook.secret"} {
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("unset %s not reported: %v", path, err)
		}
	}
	if !errors.Is(err, ErrSecretUnresolved) {
		t.Errorf("err does not wrap ErrSecretUnresolved: %v", err)
	}
}
