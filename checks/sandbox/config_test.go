package sandbox_test

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/sandbox"
)

// TestConfigLoads holds Config to credmon's own strict loader, where an
// unknown key or a bad reference is an error.
func TestConfigLoads(t *testing.T) {
	s := start(t)
	cfg, err := config.Parse("demo.yaml", s.Config("127.0.0.1:0"))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	if n, m := len(cfg.Environments["prod"].Checks), len(cfg.Environments["staging"].Checks); n != 12 || m != 6 {
		t.Errorf("checks: prod %d, staging %d; want 12 and 6", n, m)
	}
	// Literal secrets are expected here; any other warning is a mistake.
	for _, w := range cfg.Warnings {
		if !errors.Is(w, config.ErrHygiene) || !strings.Contains(w.Msg, "literal secret") {
			t.Errorf("unexpected warning: %v", w)
		}
	}
}

func TestConfig(t *testing.T) {
	s := start(t)
	raw := s.Config("127.0.0.1:19464")
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("Config is not YAML: %v\n%s", err, raw)
	}
	get := func(m any, keys ...string) any {
		for _, k := range keys {
			mm, ok := m.(map[string]any)
			if !ok {
				t.Fatalf("%s: not a mapping", strings.Join(keys, "."))
			}
			m = mm[k]
		}
		return m
	}
	if got := get(cfg, "server", "listen"); got != "127.0.0.1:19464" {
		t.Errorf("server.listen = %v, want the address passed in", got)
	}
	if got := get(cfg, "store", "driver"); got != "memory" {
		t.Errorf("store.driver = %v, want memory", got)
	}
	if got := get(cfg, "scheduler", "schedule"); got != "@every 10s" {
		t.Errorf("scheduler.schedule = %v, want @every 10s", got)
	}
	envs, _ := get(cfg, "environments").(map[string]any)
	if len(envs) != 2 || envs["prod"] == nil || envs["staging"] == nil {
		t.Fatalf("environments = %v, want prod and staging", envs)
	}

	paths := map[string]bool{} // per path probed by prod
	for name, env := range envs {
		creds, _ := get(env, "credentials").(map[string]any)
		checks, _ := get(env, "checks").([]any)
		used := map[string]bool{}
		for i, c := range checks {
			u, _ := get(c, "url").(string)
			if !strings.HasPrefix(u, s.URL()+"/v1/") {
				t.Errorf("%s.checks[%d].url = %q, want one under %s/v1/", name, i, u, s.URL())
				continue
			}
			cred, _ := get(c, "credential").(string)
			if creds[cred] == nil {
				t.Errorf("%s.checks[%d].credential %q is not defined", name, i, cred)
			}
			used[cred] = true
			if name == "prod" {
				paths[strings.TrimPrefix(u, s.URL())] = true
			}
			// The route exists: an unauthenticated request is refused, not lost.
			method, _ := get(c, "method").(string)
			if method == "" {
				method = http.MethodGet
			}
			if r := call(t, method, u, nil); r.status == http.StatusNotFound {
				t.Errorf("%s.checks[%d] %s: 404", name, i, u)
			}
		}
		for cname, cred := range creds {
			if !used[cname] {
				t.Errorf("%s.credentials.%s is used by no check", name, cname)
			}
			if tu, ok := get(cred, "token_url").(string); ok && tu != s.TokenURL() {
				t.Errorf("%s.credentials.%s.token_url = %q, want %q", name, cname, tu, s.TokenURL())
			}
		}
	}
	for _, p := range []string{
		sandbox.PathAccount, sandbox.PathEvents, sandbox.PathSession, sandbox.PathBilling,
		sandbox.PathLedger, sandbox.PathCharges, sandbox.PathAdmin, sandbox.PathLegacy,
		sandbox.PathTime, sandbox.PathSlackAuthTest, sandbox.PathReports, sandbox.PathRotating,
	} {
		if !paths[p] {
			t.Errorf("no prod check probes %s", p)
		}
	}

	// The failure modes come from the secrets the config sends.
	prodCreds := get(envs["prod"], "credentials")
	expired, _ := get(prodCreds, "session-token", "secret").(string)
	r := call(t, http.MethodGet, s.URL()+sandbox.PathSession, bearer(expired))
	if r.status != 401 || r.body["error_description"] != "The access token expired" {
		t.Errorf("prod session-token: %d %v, want 401 expired", r.status, r.body)
	}
	staging, _ := get(envs["staging"], "credentials", "session-token", "secret").(string)
	if r := call(t, http.MethodGet, s.URL()+sandbox.PathSession, bearer(staging)); r.status != 200 {
		t.Errorf("staging session-token: %d, want 200", r.status)
	}
	if got := get(prodCreds, "events-key", "scheme"); got != "" {
		t.Errorf("prod events-key scheme = %#v, want \"\"", got)
	}
	key, _ := get(prodCreds, "charges-key", "secret").(string)
	prefixes, _ := get(prodCreds, "charges-key", "expect_prefix").([]any)
	if !strings.HasPrefix(key, "sk_test_") || !slices.Contains(prefixes, any("sk_live_")) {
		t.Errorf("prod charges-key = %.8s… expecting %v, want a sk_test_ key where sk_live_ is expected", key, prefixes)
	}
	if got := get(prodCreds, "rotating-key", "previous"); got != sandbox.KeyRotatingPrevious {
		t.Errorf("prod rotating-key has no previous key")
	}

	for _, k := range regexp.MustCompile(`sk_(live|test)_[A-Za-z0-9]+`).FindAllString(string(raw), -1) {
		if !strings.Contains(k, "FAKE") {
			t.Errorf("config holds a key that does not look fake: %.10s…", k)
		}
	}
}
