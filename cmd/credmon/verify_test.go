package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	verifyCurrent   = "sk_test_FAKEverifyCurrent0000000001"
	verifyCandidate = "sk_test_FAKEverifyCandidate00000002"
)

// candidateAPI accepts only the candidate key and records every key it was
// sent; a second endpoint of the same credential accepts it too.
type candidateAPI struct {
	*httptest.Server
	mu   sync.Mutex
	keys []string
}

func newCandidateAPI(t *testing.T, accept string) *candidateAPI {
	a := &candidateAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		a.keys = append(a.keys, key)
		a.mu.Unlock()
		if key != accept {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="unknown key `+key+`"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *candidateAPI) sent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.keys...)
}

func verifyConfig(t *testing.T, url string) string {
	return writeConfig(t, fmt.Sprintf(`
store: {driver: bolt, path: %q}
notify: {console: true}
environments:
  prod:
    credentials:
      payments: {type: bearer, secret: {env: CREDMON_TEST_VERIFY_CURRENT}, rotation: {rotated_at: auto, max_age: 90d}}
      other: {type: bearer, secret: {env: CREDMON_TEST_VERIFY_CURRENT}}
    checks:
      - {name: charges, credential: payments, url: %q}
      - {name: refunds, credential: payments, url: %q}
      - {name: other, credential: other, url: %q}
`, filepath.Join(t.TempDir(), "never-written.db"), url+"/charges", url+"/refunds", url+"/other"))
}

func runVerify(t *testing.T, stdin string, envs map[string]string, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return envs[k] }}
	code := run(context.Background(), env, append([]string{"verify"}, args...))
	return cliResult{code, out.String(), errb.String()}
}

func TestVerifyCandidate(t *testing.T) {
	t.Setenv("CREDMON_TEST_VERIFY_CURRENT", verifyCurrent)
	api := newCandidateAPI(t, verifyCandidate)
	cfg := verifyConfig(t, api.URL)
	keyFile := filepath.Join(t.TempDir(), "candidate")
	if err := os.WriteFile(keyFile, []byte(verifyCandidate+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string]struct {
		stdin string
		envs  map[string]string
		argv  []string
	}{
		"env":   {"", map[string]string{"NEW_KEY": verifyCandidate}, []string{"-config", cfg, "prod/payments", "-candidate-env", "NEW_KEY"}},
		"file":  {"", nil, []string{"-config", cfg, "-candidate-file", keyFile, "prod/payments"}},
		"stdin": {verifyCandidate + "\n", nil, []string{"-config", cfg, "-candidate", "-", "prod/payments"}},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(api.sent())
			res := runVerify(t, args.stdin, args.envs, args.argv...)
			if res.code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			sent := api.sent()[before:]
			if len(sent) != 2 || sent[0] != verifyCandidate || sent[1] != verifyCandidate {
				t.Fatalf("the API was sent %d requests (%q...); want the candidate to both checks of the credential only", len(sent), sent)
			}
			for _, want := range []string{"charges", "refunds", "OK", "passes every check (2)"} {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
				}
			}
			if strings.Contains(res.stdout, "other") {
				t.Errorf("a check of another credential ran:\n%s", res.stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "never-written.db")); err == nil {
		t.Error("verify opened the store")
	}
}

func TestVerifyFailingCandidate(t *testing.T) {
	t.Setenv("CREDMON_TEST_VERIFY_CURRENT", verifyCandidate)
	// The API takes only the current key: the candidate fails, is named in
	// the server's text, and must not be printed.
	api := newCandidateAPI(t, verifyCandidate)
	res := runVerify(t, "", map[string]string{"BAD_KEY": verifyCurrent}, "-config", verifyConfig(t, api.URL), "prod/payments", "-candidate-env", "BAD_KEY")
	if res.code != exitFailure || !strings.Contains(res.stdout, "FAILS 2 of 2") || !strings.Contains(res.stdout, "invalid_token") {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, s := range []string{verifyCurrent, verifyCandidate} {
		if strings.Contains(res.stdout+res.stderr, s[:12]) {
			t.Fatalf("a secret is in the output:\n%s%s", res.stdout, res.stderr)
		}
	}
}

func TestVerifyUsage(t *testing.T) {
	t.Setenv("CREDMON_TEST_VERIFY_CURRENT", verifyCurrent)
	cfg := verifyConfig(t, "http://127.0.0.1:1")
	for name, args := range map[string][]string{
		"no candidate":       {"-config", cfg, "prod/payments"},
		"two candidates":     {"-config", cfg, "prod/payments", "-candidate-env", "A", "-candidate", "-"},
		"argument candidate": {"-config", cfg, "prod/payments", "-candidate", verifyCandidate},
		"unset variable":     {"-config", cfg, "prod/payments", "-candidate-env", "UNSET_KEY"},
		"unknown credential": {"-config", cfg, "prod/nope", "-candidate", "-"},
		"no target":          {"-config", cfg, "-candidate", "-"},
	} {
		t.Run(name, func(t *testing.T) {
			res := runVerify(t, verifyCandidate, nil, args...)
			if res.code != exitBadConfig {
				t.Fatalf("exit %d; want 2\n%s%s", res.code, res.stdout, res.stderr)
			}
			if strings.Contains(res.stdout+res.stderr, verifyCandidate[:12]) {
				t.Fatalf("the candidate is echoed:\n%s", res.stderr)
			}
		})
	}
}
