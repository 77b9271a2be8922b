package checks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

// Fake secrets: they look fake on purpose.
const (
	liveKey = "sk_live_FAKE000000000000000000000000000000000a1b2" // 48: prefix and last 4 both fit a quarter
	testKey = "sk_test_FAKE0000000000000000c3d4"
)

// authAPI is a fake API that accepts exactly one Authorization value and
// answers 401 invalid_token to anything else — it checks what it gets.
func authAPI(t *testing.T, want string, ok http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token", error_description="unknown key"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if ok != nil {
			ok(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fixture builds one check in environment "prod" with credential "cred".
type fixture struct {
	cred   *config.Credential
	check  *config.Check
	expect config.EnvExpect
	deps   checks.Deps
}

func newFixture(url string, cred *config.Credential) *fixture {
	if cred != nil {
		cred.Name, cred.Env = "cred", "prod"
	}
	chk := &config.Check{Name: "probe", URL: url, Env: "prod", Timeout: config.Duration(5 * time.Second)}
	if cred != nil {
		chk.Credential = "cred"
	}
	return &fixture{cred: cred, check: chk}
}

func (f *fixture) build(t *testing.T) *checks.Check {
	t.Helper()
	env := &config.Environment{Name: "prod", Expect: f.expect, Credentials: map[string]*config.Credential{}, Checks: []*config.Check{f.check}}
	if f.cred != nil {
		env.Credentials["cred"] = f.cred
	}
	cfg := &config.Config{Environments: map[string]*config.Environment{"prod": env}}
	cs, err := checks.Build(cfg, f.deps)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(cs) != 1 {
		t.Fatalf("Build: got %d checks, want 1", len(cs))
	}
	return cs[0]
}

func (f *fixture) run(t *testing.T) checks.Result {
	t.Helper()
	return f.build(t).Run(context.Background(), time.Now())
}

func bearerCred(secret config.Secret) *config.Credential {
	return &config.Credential{Type: config.TypeBearer, Secret: secret}
}

func apiKeyCred(secret config.Secret) *config.Credential {
	return &config.Credential{Type: config.TypeAPIKey, Secret: secret}
}

func strp(s string) *string { return &s }

// fakeJWT builds an unsigned-looking but well-formed JWT with the claims.
func fakeJWT(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]any{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".RkFLRXNpZ25hdHVyZUZBS0U"
}

func wantCause(t *testing.T, r checks.Result, cause checks.Cause) {
	t.Helper()
	if r.Cause != cause {
		t.Fatalf("cause = %s, want %s (detail: %s; hint: %s)", r.Cause, cause, r.Detail, r.Hint)
	}
	if want := checks.Verdict(cause, r.Findings); r.Status != want {
		t.Fatalf("status = %s, want %s (cause %s, findings %+v)", r.Status, want, cause, r.Findings)
	}
	if r.Detail == "" {
		t.Fatalf("cause %s has no detail", cause)
	}
	if cause != checks.CauseOK && r.Hint == "" {
		t.Fatalf("cause %s has no hint", cause)
	}
}

func hasFinding(r checks.Result, c checks.Cause) bool {
	for _, f := range r.Findings {
		if f.Cause == c {
			return true
		}
	}
	return false
}
