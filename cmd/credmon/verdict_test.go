package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

const verdictKey = "sk_live_FAKEverdict00000000000v1"

// verdict is what every output must agree on for one exchange.
type verdict struct {
	status   checks.Status
	cause    checks.Cause
	findings []checks.Cause // sorted
}

func (v verdict) String() string {
	return fmt.Sprintf("%s/%s%v", v.status, v.cause, v.findings)
}

func (v verdict) equal(o verdict) bool {
	return v.status == o.status && v.cause == o.cause && slices.Equal(v.findings, o.findings)
}

func sortedCauses(cs []checks.Cause) []checks.Cause {
	cs = slices.Clone(cs)
	slices.Sort(cs)
	if cs == nil {
		cs = []checks.Cause{}
	}
	return cs
}

// verdictExchanges are the answers of one fake API, one path each, and the
// verdict each must get from check, explain and the daemon alike.
var verdictExchanges = []struct {
	name   string
	expect string // the check's expect: block
	answer func(w http.ResponseWriter)
	want   verdict
	exit   int
	// cred is the check's credential (default "key"); handle, when set,
	// answers instead of answer and checks what arrived itself.
	cred   string
	handle func(w http.ResponseWriter, r *http.Request) bool
}{
	{"ok", "{status: [200]}", func(w http.ResponseWriter) {
		fmt.Fprint(w, `{"ok": true}`)
	}, verdict{checks.StatusOK, checks.CauseOK, nil}, exitOK, "", nil},
	{"skewed-date", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("Date", time.Now().Add(5*time.Minute).UTC().Format(http.TimeFormat))
		fmt.Fprint(w, `{"ok": true}`)
	}, verdict{checks.StatusWarn, checks.CauseOK, []checks.Cause{checks.CauseServerClockSkew}}, exitOK, "", nil},
	{"bare-401", "{status: [200]}", func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
	}, verdict{checks.StatusFail, checks.CauseUnauthorized, []checks.Cause{checks.CauseMissingChallenge}}, exitFailure, "", nil},
	{"invalid-token", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="invalid_token", error_description="key revoked"`)
		w.WriteHeader(http.StatusUnauthorized)
	}, verdict{checks.StatusFail, checks.CauseInvalidToken, nil}, exitFailure, "", nil},
	{"insufficient-scope", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fake", error="insufficient_scope", scope="billing.write"`)
		w.WriteHeader(http.StatusForbidden)
	}, verdict{checks.StatusFail, checks.CauseInsufficientScope, nil}, exitFailure, "", nil},
	{"server-error", "{status: [200]}", func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusInternalServerError)
	}, verdict{checks.StatusError, checks.CauseUnexpectedStatus, nil}, exitFailure, "", nil},
	{"json-mismatch", "{status: [200], json: {ok: true}}", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": false}`)
	}, verdict{checks.StatusError, checks.CauseUnexpectedStatus, nil}, exitFailure, "", nil},

	// An authentication answer that is not a 401 (issue 14, class 1).
	{"schemeless-400", "{status: [200]}", nil, verdict{checks.StatusFail, checks.CauseMalformedCredential, nil}, exitFailure, "raw",
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != verdictKey {
				return false
			}
			// Spring Security's BearerTokenAuthenticationEntryPoint for a
			// malformed Authorization header.
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="Bearer token is malformed", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"`)
			w.WriteHeader(http.StatusBadRequest)
			return true
		}},
	{"schemeless-accepted", "{status: [200]}", nil, verdict{checks.StatusWarn, checks.CauseOK, []checks.Cause{checks.CauseMalformedCredential}}, exitOK, "raw",
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != verdictKey {
				return false
			}
			fmt.Fprint(w, `{"ok": true}`)
			return true
		}},
	{"forbidden-invalid-token", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="signature verification failed"`)
		w.WriteHeader(http.StatusForbidden)
	}, verdict{checks.StatusFail, checks.CauseInvalidToken, nil}, exitFailure, "", nil},
	{"several-challenges", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Basic realm="api", Bearer realm="api", error="invalid_token", error_description="The access token expired"`)
		w.WriteHeader(http.StatusUnauthorized)
	}, verdict{checks.StatusFail, checks.CauseTokenExpired, nil}, exitFailure, "", nil},
	// The credential did not arrive (class 4): RFC 6750's challenge for a
	// request without credentials, answered to one that carried them.
	{"nothing-arrived", "{status: [200]}", func(w http.ResponseWriter) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		w.WriteHeader(http.StatusUnauthorized)
	}, verdict{checks.StatusFail, checks.CauseUnauthorized, nil}, exitFailure, "", nil},
	// One key, two environments (class 3).
	{"shared-key", "{status: [200]}", nil, verdict{checks.StatusWarn, checks.CauseOK, []checks.Cause{checks.CauseWrongEnvironment}}, exitOK, "shared",
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != "Bearer "+verdictSharedKey {
				return false
			}
			fmt.Fprint(w, `{"ok": true}`)
			return true
		}},
	{"misnamed-source", "{status: [200]}", nil, verdict{checks.StatusWarn, checks.CauseOK, []checks.Cause{checks.CauseMalformedCredential}}, exitOK, "misnamed",
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != "Bearer "+verdictOtherKey {
				return false
			}
			fmt.Fprint(w, `{"ok": true}`)
			return true
		}},
	// The token endpoint's own terms (class 5).
	{"grant-refused", "{status: [200]}", nil, verdict{checks.StatusFail, checks.CauseTokenEndpointRejected, nil}, exitFailure, "oauth-refused", nil},
	{"opaque-token", "{status: [200]}", nil, verdict{checks.StatusFail, checks.CauseInvalidToken, nil}, exitFailure, "oauth-opaque",
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != "Bearer "+verdictOpaque {
				return false
			}
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: Malformed token", error_uri="https://tools.ietf.org/html/rfc6750#section-3.1"`)
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}},
	// A JWT rejected by a server whose clock runs 5 minutes ahead (class 6).
	{"jwt-server-clock", "{status: [200]}", nil, verdict{checks.StatusFail, checks.CauseTokenExpired, []checks.Cause{checks.CauseServerClockSkew}}, exitFailure, "jwt",
		func(w http.ResponseWriter, r *http.Request) bool {
			if r.Header.Get("Authorization") != "Bearer "+verdictJWT {
				return false
			}
			w.Header().Set("Date", time.Now().Add(5*time.Minute).UTC().Format(http.TimeFormat))
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="Jwt expired"`)
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}},
}

// Fake secrets of the credentials beyond "key".
const (
	verdictSharedKey    = "sk_live_FAKEverdictShared000000v2"
	verdictOtherKey     = "sk_live_FAKEverdictOther0000000v3"
	verdictOpaque       = "FAKEverdictOpaqueAccessToken0000"
	verdictClientSecret = "cs_FAKE_verdict_client_secret_00"
)

// verdictJWT expires two minutes after the test starts: valid by our
// clock, expired by the fake API's.
var verdictJWT string

func verdictCredentials(tokenURL string) string {
	return "      key: {type: api_key, secret: {env: CREDMON_TEST_VERDICT_KEY}}\n" +
		"      raw: {type: api_key, scheme: \"\", secret: {env: CREDMON_TEST_VERDICT_KEY}}\n" +
		"      shared: {type: api_key, secret: {env: CREDMON_TEST_VERDICT_SHARED}}\n" +
		"      misnamed: {type: api_key, secret: {env: STAGING_CREDMON_VERDICT_KEY}}\n" +
		"      jwt: {type: bearer, secret: {env: CREDMON_TEST_VERDICT_JWT}}\n" +
		fmt.Sprintf("      oauth-refused: {type: oauth2_client_credentials, token_url: %q, client_id: credmon-verdict, client_secret: {env: CREDMON_TEST_VERDICT_CLIENT_SECRET}}\n", tokenURL+"/refused") +
		fmt.Sprintf("      oauth-opaque: {type: oauth2_client_credentials, token_url: %q, client_id: credmon-verdict, client_secret: {env: CREDMON_TEST_VERDICT_CLIENT_SECRET}}\n", tokenURL+"/opaque")
}

// verdictTokenEndpoint answers as Auth0 does: a client without the
// client_credentials grant is refused in RFC 6749 terms, and a grant
// without an audience gets an opaque access token.
func verdictTokenEndpoint(w http.ResponseWriter, r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != "credmon-verdict" || secret != verdictClientSecret || r.PostFormValue("grant_type") != "client_credentials" {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	if strings.HasSuffix(r.URL.Path, "/refused") {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"error":"unauthorized_client","error_description":"Grant type 'client_credentials' not allowed for the client.","error_uri":"https://auth0.com/docs/clients/client-grant-types"}`)
		return true
	}
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":86400}`, verdictOpaque)
	return true
}

// TestSameExchangeSameVerdict runs every exchange through `credmon check
// -format json`, `credmon explain` and the daemon, and holds the three to
// one status, cause and set of findings.
func TestSameExchangeSameVerdict(t *testing.T) {
	var wrongKey atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/token/") {
			if !verdictTokenEndpoint(w, r) {
				wrongKey.Add(1)
				w.WriteHeader(http.StatusBadRequest)
			}
			return
		}
		for _, ex := range verdictExchanges {
			if r.URL.Path != "/"+ex.name {
				continue
			}
			switch {
			case ex.handle != nil:
				if !ex.handle(w, r) {
					wrongKey.Add(1)
					w.WriteHeader(http.StatusBadRequest)
				}
			case ex.answer == nil:
				t.Errorf("%s: the API was reached, though the credential should have failed before", ex.name)
				w.WriteHeader(http.StatusBadRequest)
			case r.Header.Get("Authorization") != "Bearer "+verdictKey:
				wrongKey.Add(1)
				w.WriteHeader(http.StatusBadRequest)
			default:
				ex.answer(w)
			}
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)

	verdictJWT = fakeVerdictJWT(time.Now().Add(2 * time.Minute))
	t.Setenv("CREDMON_TEST_VERDICT_KEY", verdictKey)
	t.Setenv("CREDMON_TEST_VERDICT_SHARED", verdictSharedKey)
	t.Setenv("CREDMON_TEST_STAGING_SHARED", verdictSharedKey)
	t.Setenv("STAGING_CREDMON_VERDICT_KEY", verdictOtherKey)
	t.Setenv("CREDMON_TEST_VERDICT_JWT", verdictJWT)
	t.Setenv("CREDMON_TEST_VERDICT_CLIENT_SECRET", verdictClientSecret)
	var cfg strings.Builder
	cfg.WriteString("store: {driver: memory}\nscheduler: {schedule: \"@every 1s\"}\nenvironments:\n" +
		// staging holds the same key as prod's "shared": no checks of its own.
		"  staging:\n    credentials:\n      payments: {type: api_key, secret: {env: CREDMON_TEST_STAGING_SHARED}}\n" +
		"  prod:\n    credentials:\n" + verdictCredentials(srv.URL+"/token") + "    checks:\n")
	for _, ex := range verdictExchanges {
		cred := ex.cred
		if cred == "" {
			cred = "key"
		}
		fmt.Fprintf(&cfg, "      - {name: %s, credential: %s, url: %q, expect: %s}\n", ex.name, cred, srv.URL+"/"+ex.name, ex.expect)
	}
	path := writeConfig(t, cfg.String())

	fromDaemon, metrics := daemonVerdicts(t, path, len(verdictExchanges))
	for _, ex := range verdictExchanges {
		t.Run(ex.name, func(t *testing.T) {
			want := ex.want
			want.findings = sortedCauses(want.findings)

			check, code := checkVerdict(t, path, ex.name)
			if code != ex.exit {
				t.Errorf("check: exit %d, want %d", code, ex.exit)
			}
			explain, code := explainVerdict(t, path, ex.name)
			if code != ex.exit {
				t.Errorf("explain: exit %d, want %d", code, ex.exit)
			}
			for _, got := range []struct {
				who string
				v   verdict
			}{{"check -format json", check}, {"explain", explain}, {"daemon", fromDaemon[ex.name]}} {
				if !got.v.equal(want) {
					t.Errorf("%s: %s, want %s", got.who, got.v, want)
				}
			}
			series := fmt.Sprintf(`credmon_check_status{cause=%q,check=%q,env="prod",status=%q} 1`, want.cause, ex.name, want.status)
			if !strings.Contains(metrics, series) {
				t.Errorf("daemon metrics lack %s", series)
			}
		})
	}
	if n := wrongKey.Load(); n != 0 {
		t.Errorf("%d requests reached the fake API without the configured key", n)
	}
}

// fakeVerdictJWT is a well-formed, unsigned-looking JWT expiring at exp.
func fakeVerdictJWT(exp time.Time) string {
	enc := func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) }
	return enc(`{"alg":"RS256","typ":"JWT"}`) + "." + enc(fmt.Sprintf(`{"iss":"https://auth.example.com/","exp":%d}`, exp.Unix())) + ".RkFLRXNpZ25hdHVyZUZBS0U"
}

func checkVerdict(t *testing.T, path, name string) (verdict, int) {
	t.Helper()
	r := runCLI(t, "", "check", "-config", path, "-check", name, "-format", "json")
	var out []struct {
		Check    string        `json:"check"`
		Status   checks.Status `json:"status"`
		Cause    checks.Cause  `json:"cause"`
		Findings []struct {
			Cause checks.Cause `json:"cause"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 || out[0].Check != name {
		t.Fatalf("check %s: %v, %d results\n%s%s", name, err, len(out), r.stdout, r.stderr)
	}
	v := verdict{status: out[0].Status, cause: out[0].Cause}
	for _, f := range out[0].Findings {
		v.findings = append(v.findings, f.Cause)
	}
	v.findings = sortedCauses(v.findings)
	return v, r.code
}

// explainVerdict reads the "status", "cause" and "also" lines of `credmon
// explain`.
func explainVerdict(t *testing.T, path, name string) (verdict, int) {
	t.Helper()
	r := runCLI(t, "", "explain", "-config", path, "prod/"+name)
	var v verdict
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		val = strings.TrimSpace(val)
		switch key {
		case "status":
			v.status = checks.Status(val)
		case "cause":
			v.cause = checks.Cause(val)
		case "also":
			c, _, _ := strings.Cut(val, ":")
			v.findings = append(v.findings, checks.Cause(c))
		}
	}
	if v.status == "" || v.cause == "" {
		t.Fatalf("explain %s: no status or cause line\n%s%s", name, r.stdout, r.stderr)
	}
	v.findings = sortedCauses(v.findings)
	return v, r.code
}

// daemonVerdicts runs the daemon until each of n checks has reported once
// and returns the verdicts it recorded and its metrics at that point.
func daemonVerdicts(t *testing.T, path string, n int) (map[string]verdict, string) {
	t.Helper()
	results := make(chan checks.Result, 4*n)
	addr := startDaemon(t, daemon.Options{ConfigPath: path,
		OnResult: func(r checks.Result) {
			select {
			case results <- r:
			default: // later ticks are not needed
			}
		},
	}).addr
	seen := map[string]verdict{}
	timeout := time.After(30 * time.Second) // a hang guard, not a wait
	for len(seen) < n {
		var r checks.Result
		select {
		case r = <-results:
		case <-timeout:
			t.Fatalf("daemon reported %d of %d checks", len(seen), n)
		}
		if _, dup := seen[r.Check]; dup || r.Kind != "" {
			continue // a later tick, or a credential's concern (a JWT's expiry)
		}
		var fs []checks.Cause
		for _, f := range r.Findings {
			fs = append(fs, f.Cause)
		}
		seen[r.Check] = verdict{status: r.Status, cause: r.Cause, findings: sortedCauses(fs)}
	}
	// Metrics are updated before OnResult is called, so they already hold
	// every check's verdict.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return seen, string(body)
}
