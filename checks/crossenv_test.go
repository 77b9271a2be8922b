package checks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

func TestOneKeyTwoEnvironments(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	t.Setenv("CREDMON_TEST_PROD_KEY", liveKey)
	t.Setenv("CREDMON_TEST_STAGING_KEY", liveKey)
	t.Setenv("CREDMON_TEST_DEV_OWN_KEY", testKey)
	env := func(name, cred, variable string) *config.Environment {
		cr := apiKeyCred(config.FromEnv(variable))
		cr.Name, cr.Env = cred, name
		return &config.Environment{Name: name, Credentials: map[string]*config.Credential{cred: cr},
			Checks: []*config.Check{{Name: "probe", Env: name, URL: srv.URL, Credential: cred, Timeout: config.Duration(5 * time.Second)}}}
	}
	cfg := &config.Config{Environments: map[string]*config.Environment{
		"prod":    env("prod", "payments", "CREDMON_TEST_PROD_KEY"),
		"staging": env("staging", "payments-stg", "CREDMON_TEST_STAGING_KEY"),
		"dev":     env("dev", "payments", "CREDMON_TEST_DEV_OWN_KEY"),
	}}
	cs, err := checks.Build(cfg, checks.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]checks.Result{}
	for _, c := range cs {
		results[c.Env] = c.Run(context.Background(), time.Now())
	}
	for envName, other := range map[string]string{"prod": "staging/payments-stg", "staging": "prod/payments"} {
		r := results[envName]
		f := findingOf(r, checks.CauseWrongEnvironment)
		if f == nil || f.Status != checks.StatusWarn || !strings.Contains(f.Detail, other) {
			t.Errorf("%s: findings %+v, want a warn-level wrong_environment naming %s", envName, r.Findings, other)
			continue
		}
		if r.Cause != checks.CauseOK || r.Status != checks.StatusWarn {
			t.Errorf("%s: %s/%s, want warn/ok", envName, r.Status, r.Cause)
		}
		if strings.Contains(f.Detail, liveKey[8:20]) {
			t.Errorf("%s: the finding shows the key: %s", envName, f.Detail)
		}
	}
	if f := findingOf(results["dev"], checks.CauseWrongEnvironment); f != nil {
		t.Errorf("dev has a key of its own, yet: %+v", f)
	}
}

func TestSecretNamedForAnotherEnvironment(t *testing.T) {
	srv := authAPI(t, "Bearer "+liveKey, nil)
	for _, tc := range []struct {
		variable string
		env      string
		flagged  bool
	}{
		{"STAGING_PAYMENTS_KEY", "prod", true},
		{"PAYMENTS_KEY_DEV", "prod", true},
		{"PROD_PAYMENTS_KEY", "staging", true}, // the mirror case
		{"PROD_PAYMENTS_KEY", "prod", false},
		{"PAYMENTS_KEY", "prod", false},
	} {
		t.Run(tc.env+"/"+tc.variable, func(t *testing.T) {
			t.Setenv(tc.variable, liveKey)
			f := newFixture(srv.URL, apiKeyCred(config.FromEnv(tc.variable)))
			f.cred.Env, f.check.Env = tc.env, tc.env
			env := &config.Environment{Name: tc.env, Credentials: map[string]*config.Credential{"cred": f.cred}, Checks: []*config.Check{f.check}}
			cs, err := checks.Build(&config.Config{Environments: map[string]*config.Environment{tc.env: env}}, checks.Deps{})
			if err != nil {
				t.Fatal(err)
			}
			r := cs[0].Run(context.Background(), time.Now())
			got := findingOf(r, checks.CauseMalformedCredential)
			if (got != nil) != tc.flagged || got != nil && got.Status != checks.StatusWarn {
				t.Fatalf("finding = %+v, want flagged=%v", got, tc.flagged)
			}
			if got != nil && !strings.Contains(got.Detail, tc.variable) {
				t.Errorf("detail = %s", got.Detail)
			}
		})
	}
}
