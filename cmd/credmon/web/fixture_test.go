package web

import (
	"context"
	"errors"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/challenge"
)

// fakeSource serves a fixed snapshot, or an error.
type fakeSource struct {
	snap *Snapshot
	err  error
}

func (f fakeSource) Snapshot(context.Context) (*Snapshot, error) { return f.snap, f.err }

var errStoreDown = errors.New("redis 10.0.0.5:6379: connection refused")

var fixtureNow = time.Date(2025, 7, 3, 14, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// recent builds a newest-first history of n runs, failing at the given
// (newest-first) positions.
func recent(n int, bad checks.Status, badAt ...int) []checks.Status {
	out := make([]checks.Status, n)
	for i := range out {
		out[i] = checks.StatusOK
	}
	for _, i := range badAt {
		out[i] = bad
	}
	return out
}

// fixtureSnapshot is a realistic fleet: prod and staging, every status, a
// pending check, deadlines on both sides of now, incidents and two replicas.
func fixtureSnapshot() *Snapshot {
	now := fixtureNow
	res := func(env, check, cred string, st checks.Status, cause checks.Cause, code int, lat time.Duration, ago time.Duration) *checks.Result {
		return &checks.Result{
			Env: env, Check: check, Credential: cred,
			Tick: now.Add(-ago), Started: now.Add(-ago),
			Status: st, Cause: cause, HTTPStatus: code, Latency: lat,
			Detail: "The API answered 200 OK and the body met expectations.",
		}
	}
	checkStatus := func(r *checks.Result, identity, schedule string, next time.Duration, hist []checks.Status) CheckStatus {
		ok := 0
		for _, s := range hist {
			if s == checks.StatusOK || s == checks.StatusWarn {
				ok++
			}
		}
		return CheckStatus{
			Env: r.Env, Name: r.Check, Credential: r.Credential, Identity: identity, Schedule: schedule,
			Last: r, Recent: hist, OKRatio: float64(ok) / float64(len(hist)),
			NextRun: now.Add(next), LastRunBy: "credmon-7d9f-a",
		}
	}

	prodPay := res("prod", "payments-account", "payments-key", checks.StatusFail, checks.CauseInvalidToken, 401, 182*time.Millisecond, 3*time.Minute)
	prodPay.Identity = "api_key Authorization: Bearer sk_live_…a1b2"
	prodPay.Detail = `The API rejected the key with 401 invalid_token: "The API key was revoked on 2025-07-02".`
	prodPay.Hint = "Issue a new live key in the payments dashboard, store it in PROD_PAYMENTS_KEY and restart the consumers; the old key cannot be revived."
	prodPay.Challenge = &challenge.Challenge{Scheme: "Bearer", Realm: "payments", Error: "invalid_token", ErrorDescription: "The API key was revoked"}

	stgPay := res("staging", "payments-account", "payments-key", checks.StatusOK, checks.CauseOK, 200, 94*time.Millisecond, 2*time.Minute)

	prodBill := res("prod", "billing-me", "billing-client", checks.StatusWarn, checks.CauseTokenExpiring, 200, 240*time.Millisecond, 40*time.Second)
	prodBill.Detail = "The client secret of billing-client expires in 6 days (2025-07-09)."
	prodBill.Hint = "Create a new client secret for credmon-prod at the identity provider and update PROD_BILLING_CLIENT_SECRET before 2025-07-09."
	prodBill.Token = &checks.TokenInfo{Issuer: "https://auth.example.com/", ExpiresAt: ptr(now.Add(52 * time.Minute))}

	stgBill := res("staging", "billing-me", "billing-client", checks.StatusFail, checks.CauseWrongEnvironment, 0, 0, 50*time.Second)
	stgBill.Detail = "The token's issuer https://auth.example.com/ belongs to prod, not staging."
	stgBill.Hint = "Point staging's billing-client token_url at https://auth.staging.example.com/oauth/token."

	prodSearch := res("prod", "search-query", "search-basic", checks.StatusError, checks.CauseUnreachable, 0, 10*time.Second, 70*time.Second)
	prodSearch.Detail = "dial tcp search.internal:443: i/o timeout after 10s."
	prodSearch.Hint = "The credential was not tested: check DNS, the network path and the proxy from this replica."

	stgSearch := res("staging", "search-query", "search-basic", checks.StatusOK, checks.CauseOK, 200, 31*time.Millisecond, 20*time.Second)
	stgSearch.AddFinding(checks.Finding{Cause: checks.CauseServerClockSkew, Detail: "The server's clock is 4.2 s ahead of ours.", Hint: "Check NTP on search.staging.internal."})
	stgSearch.ServerTimeOffset = 4200 * time.Millisecond

	prodGH := res("prod", "github-app", "github-token", checks.StatusOK, checks.CauseOK, 200, 120*time.Millisecond, 4*time.Minute)

	prodMail := res("prod", "mail-send", "mail-key", checks.StatusFail, checks.CausePreviousKeyStillValid, 200, 77*time.Millisecond, 5*time.Minute)
	prodMail.Identity = "api_key X-API-Key: SG.…9f3c"
	prodMail.Detail = "The rotated-out key SG.…77aa is still accepted 3 days after its 48h grace period."
	prodMail.Hint = "Revoke the previous key in the mail provider's console; then remove PROD_MAIL_KEY_PREVIOUS."

	return &Snapshot{
		Generated: now,
		Instance:  "credmon-7d9f-a",
		Version:   "v0.4.0",
		Ready:     false,
		NotReady:  []string{"redis unreachable: dial tcp 10.0.0.5:6379: connection refused (probing with cached tokens)"},
		Checks: []CheckStatus{
			checkStatus(prodBill, "oauth2_client_credentials client_id=credmon-prod", "@every 1m", 20*time.Second, recent(20, checks.StatusWarn, 0, 1, 2)),
			checkStatus(prodGH, "bearer Authorization: Bearer ghs_…Zx09", "@every 5m", 60*time.Second, recent(20, checks.StatusOK)),
			checkStatus(prodMail, "api_key X-API-Key: SG.…9f3c", "*/5 * * * *", 2*time.Minute, recent(12, checks.StatusFail, 0, 1, 2, 3)),
			checkStatus(prodPay, "api_key Authorization: Bearer sk_live_…a1b2", "*/5 * * * *", 42*time.Second, recent(20, checks.StatusFail, 0, 1, 2, 9)),
			checkStatus(prodSearch, "basic Authorization: Basic svc-search:…", "@every 1m", -2*time.Second, recent(20, checks.StatusError, 0, 5, 6)),
			checkStatus(stgBill, "oauth2_client_credentials client_id=credmon-staging", "@every 1m", 10*time.Second, recent(8, checks.StatusFail, 0, 1)),
			checkStatus(stgPay, "api_key Authorization: Bearer sk_test_…9z8y", "*/5 * * * *", 3*time.Minute, recent(20, checks.StatusOK)),
			checkStatus(stgSearch, "basic Authorization: Basic svc-search:…", "@every 1m", 40*time.Second, recent(20, checks.StatusWarn, 0)),
			{Env: "staging", Name: "legacy-webhook", Credential: "legacy-hmac", Schedule: "@every 10m", NextRun: now.Add(9 * time.Minute)},
		},
		Deadlines: []Deadline{
			{Env: "prod", Credential: "mail-key", Kind: DeadlineRotation, At: now.Add(-50 * time.Hour)},
			{Env: "prod", Credential: "billing-client", Kind: DeadlineToken, At: now.Add(52 * time.Minute)},
			{Env: "prod", Credential: "billing-client", Kind: DeadlineExpiry, At: now.Add(6*24*time.Hour + 4*time.Hour)},
			{Env: "staging", Credential: "payments-key", Kind: DeadlineRotation, At: now.Add(41 * 24 * time.Hour)},
			{Env: "prod", Credential: "payments-key", Kind: DeadlineRotation, At: now.Add(83*24*time.Hour + 5*time.Hour)},
		},
		Incidents: []Incident{
			{Key: "prod/payments-account/auth", Env: "prod", Subject: "payments-account", Cause: checks.CauseInvalidToken, Status: checks.StatusFail, Since: now.Add(-47 * time.Minute), LastNotified: now.Add(-47 * time.Minute)},
			{Key: "prod/mail-key/rotation", Env: "prod", Subject: "mail-key", Cause: checks.CausePreviousKeyStillValid, Status: checks.StatusFail, Since: now.Add(-3*24*time.Hour - 2*time.Hour), LastNotified: now.Add(-2 * time.Hour)},
			{Key: "staging/billing-me/env", Env: "staging", Subject: "billing-me", Cause: checks.CauseWrongEnvironment, Status: checks.StatusFail, Since: now.Add(-2 * time.Minute)},
		},
		Instances: []Instance{
			{ID: "credmon-7d9f-a", Host: "node-a", Version: "v0.4.0", Started: now.Add(-3*24*time.Hour - 5*time.Hour), LastSeen: now.Add(-1 * time.Second)},
			{ID: "credmon-7d9f-b", Host: "node-b", Version: "v0.4.0", Started: now.Add(-26 * time.Hour), LastSeen: now.Add(-4 * time.Second)},
		},
		ClockOffset: ptr(-3 * time.Millisecond),
	}
}
