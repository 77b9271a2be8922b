package checks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
)

const (
	queryKey  = "qk_FAKE0000request0000query"
	headerKey = "hk_FAKE0000request000header"
	bodyKey   = "bs_FAKE00000request0000body"
)

// secretsAPI accepts only a request carrying every request secret where it
// belongs, and quotes back whatever it received otherwise.
func secretsAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("api_key") == queryKey && r.Header.Get("X-API-Key") == headerKey && strings.Contains(string(body), bodyKey) {
			_, _ = io.WriteString(w, `{"ok":true}`)
			return
		}
		echo := r.URL.RawQuery + " " + r.Header.Get("X-API-Key") + " " + string(body)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="got `+echo+`"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, echo)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func requestSecretsCheck(t *testing.T, url string) *config.Check {
	t.Setenv("CREDMON_TEST_QUERY_KEY", queryKey)
	t.Setenv("CREDMON_TEST_HEADER_KEY", headerKey)
	bodyFile := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(bodyFile, []byte(`{"key":"`+bodyKey+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return &config.Check{Name: "probe", Env: "prod", URL: url, Method: "POST", Timeout: config.Duration(5 * time.Second),
		Query:   map[string]config.Param{"api_key": {Secret: config.FromEnv("CREDMON_TEST_QUERY_KEY")}, "page": config.Text("1")},
		Headers: map[string]config.Param{"X-API-Key": {Secret: config.FromEnv("CREDMON_TEST_HEADER_KEY")}, "Accept": config.Text("application/json")},
		Body:    config.Param{Secret: config.FromFile(bodyFile)},
	}
}

func TestRequestSecretsAreSentAndRedacted(t *testing.T) {
	srv := secretsAPI(t)
	f := newFixture(srv.URL+"/v1", nil)
	f.check = requestSecretsCheck(t, srv.URL+"/v1")
	c := f.build(t)
	r, tr := c.Explain(context.Background())
	wantCause(t, r, checks.CauseOK) // the API saw every secret where it belongs

	// Now the header secret is wrong: the API quotes what it got.
	t.Setenv("CREDMON_TEST_HEADER_KEY", "hk_FAKE0000request00WRONGkey")
	r, tr = c.Explain(context.Background())
	if r.Status != checks.StatusFail {
		t.Fatalf("status = %s, want fail (%s)", r.Status, r.Detail)
	}
	shown := r.Detail + r.Hint + tr.URL + tr.Body + strings.Join(tr.RequestHeaders.Values("X-API-Key"), "") +
		strings.Join(tr.ResponseHeaders.Values("Www-Authenticate"), "")
	for _, secret := range []string{queryKey, bodyKey, "hk_FAKE0000request00WRONGkey"} {
		if strings.Contains(shown, secret[:12]) || strings.Contains(shown, secret[len(secret)-12:]) {
			t.Errorf("a request secret is shown: %s\n%s", secret, shown)
		}
	}
	if !strings.Contains(tr.URL, "api_key=<redacted>") || !strings.Contains(tr.URL, "page=1") {
		t.Errorf("explain's url = %q, want the api_key masked and page kept", tr.URL)
	}
	if got := tr.RequestHeaders.Get("X-API-Key"); got != "<redacted>" {
		t.Errorf("explain shows X-API-Key as %q", got)
	}
	if got := tr.RequestHeaders.Get("Accept"); got != "application/json" {
		t.Errorf("a plain header is hidden: %q", got)
	}
}

func TestRequestSecretsNeverOverPlainHTTP(t *testing.T) {
	// Not loopback: the probe must refuse before dialling. The name
	// resolves nowhere, so a request that went out fails differently
	// (unreachable), which is what allow_insecure shows.
	f := newFixture("http://api.credmon-test.invalid/v1", nil)
	f.check = requestSecretsCheck(t, "http://api.credmon-test.invalid/v1")
	r := f.run(t)
	if !strings.Contains(r.Detail, "refused to send") {
		t.Fatalf("detail = %q, want the plain-http refusal", r.Detail)
	}
	f.check.AllowInsecure = true
	if r := f.run(t); r.Cause != checks.CauseUnreachable {
		t.Fatalf("with allow_insecure the request should go out (and fail to resolve): %s %s", r.Cause, r.Detail)
	}
}

func TestMissingRequestSecret(t *testing.T) {
	srv := secretsAPI(t)
	f := newFixture(srv.URL, nil)
	f.check = requestSecretsCheck(t, srv.URL)
	f.check.Headers["X-API-Key"] = config.Param{Secret: config.FromEnv("CREDMON_TEST_UNSET_HEADER_KEY")}
	wantCause(t, f.run(t), checks.CauseMissingCredential)
}

func TestTokenEndpointRedirectIsNotFollowed(t *testing.T) {
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"evil_FAKE_token","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evilURL+"/token?x=1", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(auth.Close)
	api := authAPI(t, "Bearer evil_FAKE_token", nil)
	cred := &config.Credential{Type: config.TypeOAuth2ClientCredentials, TokenURL: auth.URL, ClientID: "c",
		ClientSecret: config.Literal("cs_FAKE00000000redirect0000secret")}
	r := newFixture(api.URL, cred).run(t)
	wantCause(t, r, checks.CauseTokenEndpointRejected)
	if !strings.Contains(r.Detail, "redirecting to localhost:") || strings.Contains(r.Detail, "/token") || strings.Contains(r.Detail, "x=1") {
		t.Errorf("detail = %q, want the Location's host only", r.Detail)
	}
	if stolen.Load() != 0 {
		t.Errorf("the redirect target received %d requests", stolen.Load())
	}
}
