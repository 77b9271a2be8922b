package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNotifiersLoad(t *testing.T) {
	env := fakeEnv(map[string]string{
		"SLACK_WEBHOOK_URL": "https://hooks.slack.invalid/services/TFAKE/BFAKE/FAKEsecretFAKEsecret",
		"PD_ROUTING_KEY":    "FAKEpdROUTINGkey2222222222222222",
		"WEBHOOK_SECRET":    "FAKEwebhookSECRET-2222",
	})
	cfg, err := env.Load("testdata/notify-routes.yaml")
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
	if p := cfg.Pos("notify.routes[1].match.severity"); p.Line != 9 {
		t.Errorf("position of routes[1].match.severity: %v", p)
	}
	// The secrets of the new notifiers are resolved like every other.
	cfg, err = fakeEnv(nil).Load("testdata/notify-routes.yaml")
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
