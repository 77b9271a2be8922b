package sandbox

import (
	"bytes"
	"encoding/json"
	"text/template"
	"time"
)

// Credentials the demo config sends that the sandbox refuses: what a stale
// secret store holds after someone rotated the real one.
const (
	staleLegacyKey     = "lk_FAKEdemoLegacy0000"
	staleBasicPassword = "pw_FAKEdemoReports0000"
)

// Config returns a complete credmon configuration whose checks all point at
// the sandbox, with environments prod and staging that between them show
// every failure mode. listen becomes server.listen. The secrets are fake
// literals, which credmon allows in the demo.
func (s *Sandbox) Config(listen string) []byte {
	var buf bytes.Buffer
	err := configTemplate.Execute(&buf, map[string]any{
		"Listen":   listen,
		"URL":      s.url,
		"Issuer":   s.Issuer(),
		"Audience": s.Audience(),
		"TokenURL": s.TokenURL(),
		// 80 of 90 days: inside the 14d warning band, and long past the
		// 48h grace in which the previous key may still work.
		"RotatedAt": time.Now().UTC().AddDate(0, 0, -80).Format(time.DateOnly),

		"ExpiredJWT": s.expiredJWT, "StagingJWT": s.stagingJWT,
		"KeyAccount": KeyAccount, "KeyEvents": KeyEvents,
		"KeyChargesTest": KeyChargesTest, "StaleLegacyKey": staleLegacyKey,
		"KeyRotatingCurrent": KeyRotatingCurrent, "KeyRotatingPrevious": KeyRotatingPrevious,
		"SlackTokenActive": SlackTokenActive, "SlackTokenInactive": SlackTokenInactive,
		"BasicUser": BasicUser, "BasicPassword": BasicPassword, "StaleBasicPassword": staleBasicPassword,
		"ClientID": ClientID, "ClientSecret": ClientSecret,
		"RevokedClientID": RevokedClientID, "RevokedClientSecret": RevokedClientSecret,
		"ScopeBilling": ScopeBilling,

		"PathAccount": PathAccount, "PathEvents": PathEvents, "PathSession": PathSession,
		"PathBilling": PathBilling, "PathLedger": PathLedger, "PathCharges": PathCharges,
		"PathAdmin": PathAdmin, "PathLegacy": PathLegacy, "PathTime": PathTime,
		"PathSlackAuthTest": PathSlackAuthTest, "PathReports": PathReports, "PathRotating": PathRotating,
	})
	if err != nil {
		// The template and its data are fixed: failing is a bug in this file.
		panic("sandbox: config template: " + err.Error())
	}
	return buf.Bytes()
}

// q quotes a string for YAML: a JSON string is a valid YAML double-quoted
// scalar, so no value can break the document.
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var configTemplate = template.Must(template.New("config").Funcs(template.FuncMap{"q": q}).Parse(`# credmon demo configuration. Every check points at the local sandbox at
# {{.URL}}, and its comment names the cause credmon should report.
# The secrets are fake and written inline, which only the demo should do.
server:
  listen: {{q .Listen}}
store:
  driver: memory
scheduler:
  schedule: "@every 10s"
  timeout: 5s
alerting:
  failure_threshold: 1        # a demo should not make you wait for a second failure
  success_threshold: 1
  remind_every: "0"
notify:
  console: true
clock:
  ntp_servers: []             # the demo reaches nothing beyond loopback
environments:
  prod:
    expect:
      issuer: {{q .Issuer}}
      audience: {{q .Audience}}
    credentials:
      account-key:
        type: api_key
        secret: {{q .KeyAccount}}
        expect_prefix: [sk_live_]
      events-key:
        type: api_key
        secret: {{q .KeyEvents}}
        scheme: ""            # sent without "Bearer ": the API refuses it
        expect_prefix: [sk_live_]
      session-token:
        type: bearer
        secret: {{q .ExpiredJWT}}
      billing-client:
        type: oauth2_client_credentials
        token_url: {{q .TokenURL}}
        client_id: {{q .ClientID}}
        client_secret: {{q .ClientSecret}}
        scopes: [{{q .ScopeBilling}}]
        audience: {{q .Audience}}
      ledger-client:
        type: oauth2_client_credentials
        token_url: {{q .TokenURL}}
        client_id: {{q .RevokedClientID}}
        client_secret: {{q .RevokedClientSecret}}
        scopes: [{{q .ScopeBilling}}]
        audience: {{q .Audience}}
      charges-key:
        type: api_key
        secret: {{q .KeyChargesTest}}   # a test-mode key in prod
        expect_prefix: [sk_live_]
      legacy-key:
        type: api_key
        header: X-API-Key
        secret: {{q .StaleLegacyKey}}
      slack-token:
        type: bearer
        secret: {{q .SlackTokenInactive}}
      reports-login:
        type: basic
        username: {{q .BasicUser}}
        secret: {{q .BasicPassword}}
      rotating-key:
        type: api_key
        secret: {{q .KeyRotatingCurrent}}
        previous: {{q .KeyRotatingPrevious}}
        expect_prefix: [sk_live_]
        rotation: {max_age: 90d, rotated_at: {{q .RotatedAt}}, grace: 48h}
    checks:
      - name: account         # ok
        credential: account-key
        url: {{q (print .URL .PathAccount)}}
        expect: {status: [200]}
      - name: events          # malformed_credential: 401 invalid_request, missing Bearer scheme
        credential: events-key
        url: {{q (print .URL .PathEvents)}}
      - name: session         # token_expired
        credential: session-token
        url: {{q (print .URL .PathSession)}}
      - name: billing         # ok, one token fetch per token lifetime
        credential: billing-client
        url: {{q (print .URL .PathBilling)}}
        headers: {Accept: application/json}
        expect: {status: [200], json: {ok: true}}
      - name: ledger          # revoked: still 401 after a fresh token
        credential: ledger-client
        url: {{q (print .URL .PathLedger)}}
      - name: charges         # wrong_environment: sk_test_ key where sk_live_ is expected
        credential: charges-key
        url: {{q (print .URL .PathCharges)}}
      - name: admin           # insufficient_scope: the token lacks admin.write
        credential: billing-client
        url: {{q (print .URL .PathAdmin)}}
      - name: legacy          # unauthorized, with missing_challenge
        credential: legacy-key
        url: {{q (print .URL .PathLegacy)}}
      - name: server-time     # ok, with server_clock_skew: Date runs 5 minutes ahead
        credential: account-key
        url: {{q (print .URL .PathTime)}}
      - name: slack-auth      # unexpected_status: 200 {"ok": false, "error": "token_inactive"}
        credential: slack-token
        method: POST
        url: {{q (print .URL .PathSlackAuthTest)}}
        expect: {status: [200], json: {ok: true}}
      - name: reports         # ok
        credential: reports-login
        url: {{q (print .URL .PathReports)}}
      - name: rotating        # previous_key_still_valid, and rotation_due
        credential: rotating-key
        url: {{q (print .URL .PathRotating)}}
  staging:
    expect:
      issuer: {{q .Issuer}}
      audience: {{q .Audience}}
    credentials:
      charges-key:
        type: api_key
        secret: {{q .KeyChargesTest}}
        expect_prefix: [sk_test_]
      session-token:
        type: bearer
        secret: {{q .StagingJWT}}   # valid for 3 days from demo start
      billing-client:
        type: oauth2_client_credentials
        token_url: {{q .TokenURL}}
        client_id: {{q .ClientID}}
        client_secret: {{q .ClientSecret}}
        scopes: [{{q .ScopeBilling}}]
        audience: {{q .Audience}}
      reports-login:
        type: basic
        username: {{q .BasicUser}}
        secret: {{q .StaleBasicPassword}}   # the password before the last change
      slack-token:
        type: bearer
        secret: {{q .SlackTokenActive}}
      rotating-key:
        type: api_key
        secret: {{q .KeyRotatingCurrent}}
        expect_prefix: [sk_live_]
        rotation: {max_age: 90d, rotated_at: auto}
    checks:
      - name: charges         # ok: test keys belong in staging
        credential: charges-key
        url: {{q (print .URL .PathCharges)}}
      - name: session         # token_expiring
        credential: session-token
        url: {{q (print .URL .PathSession)}}
      - name: billing         # ok, sharing nothing with prod's token
        credential: billing-client
        url: {{q (print .URL .PathBilling)}}
        expect: {status: [200], json: {ok: true}}
      - name: reports         # unauthorized: Basic challenge
        credential: reports-login
        url: {{q (print .URL .PathReports)}}
      - name: slack-auth      # ok
        credential: slack-token
        method: POST
        url: {{q (print .URL .PathSlackAuthTest)}}
        expect: {status: [200], json: {ok: true}}
      - name: rotating        # ok
        credential: rotating-key
        url: {{q (print .URL .PathRotating)}}
`))
