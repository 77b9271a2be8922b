package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fake secrets the leak test looks for everywhere.
const (
	fakeLive = "sk_live_FAKEleak0000000000zz01"
	// fakeStaging is staging's own key, which fakeAPI accepts too:
	// environments must not share one.
	fakeStaging = "sk_live_FAKEstaging0000000zz07"
	fakeStale   = "sk_live_FAKEleakSTALE00000zz02"
	fakeNewlin  = "sk_live_FAKEleakNEWLINE0000zz03"
)

type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), env, args)
	return cliResult{code, out.String(), errb.String()}
}

// fakeAPI accepts only fakeLive as a bearer key and says why otherwise.
func fakeAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "Bearer "+fakeLive && a != "Bearer "+fakeStaging {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token", error_description="key not recognised"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"invalid_token","echo":%q}`, r.Header.Get("Authorization"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": true}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func leakConfig(t *testing.T, url string) string {
	t.Setenv("CREDMON_TEST_GOOD_KEY", fakeLive)
	t.Setenv("CREDMON_TEST_STALE_KEY", fakeStale)
	t.Setenv("CREDMON_TEST_NEWLINE_KEY", fakeNewlin+"\n")
	return writeConfig(t, fmt.Sprintf(`
store: {driver: memory}
environments:
  prod:
    credentials:
      good: {type: api_key, secret: {env: CREDMON_TEST_GOOD_KEY}, expect_prefix: [sk_live_]}
      stale: {type: api_key, secret: {env: CREDMON_TEST_STALE_KEY}}
      newline: {type: api_key, secret: {env: CREDMON_TEST_NEWLINE_KEY}}
    checks:
      - {name: good, credential: good, url: %[1]q, expect: {status: [200], json: {ok: true}}}
      - {name: stale, credential: stale, url: %[1]q}
      - {name: newline, credential: newline, url: %[1]q}
`, url))
}

func TestCheckExitCodesAndFormats(t *testing.T) {
	srv := fakeAPI(t)
	cfg := leakConfig(t, srv.URL+"/v1/me")

	ok := runCLI(t, "", "check", "-config", cfg, "-check", "good")
	if ok.code != exitOK || !strings.Contains(ok.stdout, "OK") {
		t.Fatalf("check good: exit %d\n%s%s", ok.code, ok.stdout, ok.stderr)
	}
	all := runCLI(t, "", "check", "-config", cfg)
	if all.code != exitFailure {
		t.Fatalf("check all: exit %d, want 1\n%s%s", all.code, all.stdout, all.stderr)
	}
	for _, want := range []string{"invalid_token", "malformed_credential", "fix:"} {
		if !strings.Contains(all.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, all.stdout)
		}
	}
	js := runCLI(t, "", "check", "-config", cfg, "-format", "json")
	var results []map[string]any
	if err := json.Unmarshal([]byte(js.stdout), &results); err != nil {
		t.Fatalf("json output: %v\n%s", err, js.stdout)
	}
	if len(results) != 3 {
		t.Fatalf("json: %d results, want 3", len(results))
	}
	causes := map[string]string{}
	for _, r := range results {
		causes[r["check"].(string)] = r["cause"].(string)
	}
	want := map[string]string{"good": "ok", "stale": "invalid_token", "newline": "malformed_credential"}
	for k, v := range want {
		if causes[k] != v {
			t.Errorf("check %s: cause %s, want %s", k, causes[k], v)
		}
	}
	if r := runCLI(t, "", "check", "-config", cfg, "-env", "nope"); r.code != exitBadConfig {
		t.Errorf("unknown env: exit %d, want 2", r.code)
	}
}

func TestBadConfigExitsTwoWithLocation(t *testing.T) {
	cfg := writeConfig(t, "environments:\n  prod:\n    checks:\n      - name: x\n        url: https://api.example.com\n        scheudle: \"@every 1m\"\n")
	for _, cmd := range []string{"check", "validate", "explain"} {
		args := []string{cmd, "-config", cfg}
		if cmd == "explain" {
			args = append(args, "prod/x")
		}
		r := runCLI(t, "", args...)
		if r.code != exitBadConfig {
			t.Errorf("%s: exit %d, want 2", cmd, r.code)
		}
		if !strings.Contains(r.stderr, cfg+":6:9: environments.prod.checks[0].scheudle") {
			t.Errorf("%s: error lacks file:line:col and path:\n%s", cmd, r.stderr)
		}
	}
}

func TestExplain(t *testing.T) {
	srv := fakeAPI(t)
	cfg := leakConfig(t, srv.URL+"/v1/me")
	r := runCLI(t, "", "explain", "-config", cfg, "prod/stale")
	if r.code != exitFailure {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"> GET " + srv.URL + "/v1/me", "< 401 Unauthorized", `error="invalid_token"`, "cause   invalid_token", "fix ", "Bearer …zz02"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestJWTCommand(t *testing.T) {
	// {"alg":"HS256","typ":"JWT"}.{"iss":"https://auth.example.com/","exp":4102444800}
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZS5jb20vIiwiZXhwIjo0MTAyNDQ0ODAwfQ.RkFLRXNpZw"
	r := runCLI(t, tok+"\n", "jwt", "-")
	if r.code != exitOK || !strings.Contains(r.stdout, "https://auth.example.com/") || !strings.Contains(r.stdout, "2100-01-01") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "RkFLRXNpZw") {
		t.Errorf("signature printed")
	}
	if r := runCLI(t, "", "jwt", "not-a-jwt"); r.code != exitBadConfig {
		t.Errorf("garbage: exit %d, want 2", r.code)
	}
}

// TestNoSecretLeaks feeds known fake secrets through every output path of
// the one-shot commands and asserts none appears.
func TestNoSecretLeaks(t *testing.T) {
	srv := fakeAPI(t) // it even echoes the Authorization header it got
	cfg := leakConfig(t, srv.URL+"/v1/me")
	var outputs []string
	for _, args := range [][]string{
		{"check", "-config", cfg},
		{"check", "-config", cfg, "-format", "json"},
		{"check", "-config", cfg, "-format", "junit"},
		{"check", "-config", cfg, "-format", "github"},
		{"explain", "-config", cfg, "prod/good"},
		{"explain", "-config", cfg, "prod/stale"},
		{"explain", "-config", cfg, "prod/newline"},
		{"validate", "-config", cfg},
	} {
		r := runCLI(t, "", args...)
		outputs = append(outputs, r.stdout, r.stderr)
	}
	all := strings.Join(outputs, "\n")
	for _, secret := range []string{fakeLive, fakeStale, fakeNewlin, "FAKEleak0000", "FAKEleakSTALE", "FAKEleakNEWLINE"} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q leaked into command output", secret)
		}
	}
	if !strings.Contains(all, "<redacted>") {
		t.Errorf("the echoed key in the response body was not redacted (or not shown)")
	}
}

func TestValidateChecksTheEncryptionKey(t *testing.T) {
	t.Setenv("CREDMON_TEST_SHORT_KEY", "dG9vIHNob3J0") // "too short"
	cfg := writeConfig(t, "store: {driver: memory, encryption_key: {env: CREDMON_TEST_SHORT_KEY}}\n")
	r := runCLI(t, "", "validate", "-config", cfg)
	if r.code != exitBadConfig || !strings.Contains(r.stderr, "store.encryption_key") || !strings.Contains(r.stderr, cfg+":1:") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "dG9vIHNob3J0") {
		t.Errorf("the key was echoed")
	}
	t.Setenv("CREDMON_TEST_SHORT_KEY", "RkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0U=")
	if r := runCLI(t, "", "validate", "-config", cfg); r.code != exitOK {
		t.Fatalf("a 32-byte key: exit %d: %s", r.code, r.stderr)
	}
}

func TestValidateChecksTheFingerprintKey(t *testing.T) {
	t.Setenv("CREDMON_TEST_SHORT_KEY", "dG9vIHNob3J0") // "too short"
	cfg := writeConfig(t, "store: {driver: memory, fingerprint_key: {env: CREDMON_TEST_SHORT_KEY}}\n")
	r := runCLI(t, "", "validate", "-config", cfg)
	if r.code != exitBadConfig || !strings.Contains(r.stderr, "store.fingerprint_key: key decodes to 9 bytes, want 32") || !strings.Contains(r.stderr, cfg+":1:") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "dG9vIHNob3J0") {
		t.Errorf("the key was echoed")
	}
	t.Setenv("CREDMON_TEST_SHORT_KEY", "RkFLRUZBS0VGQUtFRkFLRUZBS0VGQUtFRkFLRUZBS0U=")
	if r := runCLI(t, "", "validate", "-config", cfg); r.code != exitOK {
		t.Fatalf("a 32-byte key: exit %d: %s", r.code, r.stderr)
	}
}

func TestValidateRefusesAutoRotationOnRedisWithoutAKey(t *testing.T) {
	cfg := writeConfig(t, `store: {driver: redis, redis: {url: "redis://127.0.0.1:6379/0"}}
environments:
  prod:
    credentials:
      key: {type: api_key, secret: {env: CREDMON_TEST_UNUSED}, rotation: {rotated_at: auto}}
`)
	r := runCLI(t, "", "validate", "-config", cfg)
	want := cfg + ":5:87: environments.prod.credentials.key.rotation.rotated_at: rotated_at: auto with store.driver redis needs store.fingerprint_key (or store.encryption_key)"
	if r.code != exitBadConfig || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d, want 2 and %q in:\n%s", r.code, want, r.stderr)
	}
}

func TestJWTCommandShowsAJWEHeader(t *testing.T) {
	// {"alg":"RSA-OAEP","enc":"A256GCM"} and four opaque parts.
	r := runCLI(t, "", "jwt", "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.YQ.Yg.Yw.ZA")
	if r.code != exitOK || !strings.Contains(r.stdout, "A256GCM") || !strings.Contains(r.stdout, "encrypted") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestRunRefusesAMissingNotifierSecret(t *testing.T) {
	cfg := writeConfig(t, "store: {driver: memory}\nnotify: {slack: {bot_token: {env: CREDMON_TEST_UNSET_BOT_TOKEN}, channel: \"#c\"}}\n")
	r := runCLI(t, "", "run", "-config", cfg, "-listen", "127.0.0.1:0")
	if r.code != exitBadConfig || !strings.Contains(r.stderr, "CREDMON_TEST_UNSET_BOT_TOKEN") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}
