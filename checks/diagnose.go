package checks

import (
	"encoding/json"
	"fmt"
	"github.com/credmon/credmon/checks/duration"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credmon/credmon/checks/challenge"
)

// diagnose classifies an HTTP exchange into a cause with detail and hint.
func (c *Check) diagnose(res *Result, ex *exchange, auth *Authorization, tr *Trace) {
	res.HTTPStatus = ex.status
	cs := challenge.Parse(ex.header.Values("WWW-Authenticate"))
	// Redacted as parsed: details quote and cut these strings later.
	for i := range cs {
		redactChallenge(&cs[i], ex.sensitive)
	}
	if tr != nil {
		tr.Challenges = cs
	}
	res.Challenge = challenge.Preferred(cs)
	now := c.deps.Now()
	expired := res.Token != nil && res.Token.ExpiresAt != nil && !res.Token.ExpiresAt.After(now)
	clk := c.clocks(ex)

	switch {
	case c.statusExpected(ex.status):
		if detail, cause, ok := bodyMismatch(c.Cfg.Expect.JSON, ex); !ok {
			hint := "Check the API's response body against the check's expect.json."
			if cause != CauseUnexpectedStatus {
				hint = "The API accepted the request but says the credential is not valid: re-issue it at the provider and update the secret."
			}
			res.SetCause(cause, detail, hint)
		} else if expired {
			res.SetCause(CauseTokenExpired,
				fmt.Sprintf("The token expired %s (exp %s) by our clock, though this API still accepted it", ago(now, *res.Token.ExpiresAt), res.Token.ExpiresAt.UTC().Format(time.RFC3339)),
				"Issue a new token before other services that do check exp start failing; if our clock is wrong, see clock_skew.")
		} else {
			res.SetCause(CauseOK, fmt.Sprintf("The API answered %s", statusText(ex.status)), "")
		}
	case ex.status == http.StatusUnauthorized:
		c.diagnoseAuth(res, ex, cs, auth, expired, now, clk)
	case ex.status == http.StatusForbidden:
		if ch := res.Challenge; ch != nil && ch.BearerError() == challenge.BearerInsufficientScope {
			scope := ch.Scope
			if scope == "" {
				scope = "(not named by the server)"
			}
			res.SetCause(CauseInsufficientScope,
				"The credential is valid but lacks the scope this request needs: "+scope+challengeSuffix(ch),
				fmt.Sprintf("Grant %s to the key or client (for OAuth2 add it to `scopes:`), then issue a new token.", scope))
		} else if ch != nil && ch.BearerError() == challenge.BearerInvalidToken {
			// Some gateways answer 403 where RFC 6750 says 401: the
			// challenge, not the status, says what happened.
			c.diagnoseAuth(res, ex, cs, auth, expired, now, clk)
		} else {
			res.SetCause(CauseForbidden,
				"The API accepted the credential but refused this request (403 Forbidden)"+challengeSuffix(res.Challenge),
				"The credential is alive: check its role or permissions for this resource, an IP allow-list, or the account's status at the provider.")
		}
	case ex.status == http.StatusProxyAuthRequired:
		res.SetCause(CauseUnexpectedStatus, "The proxy answered 407 Proxy Authentication Required",
			"The proxy in proxy_url wants its own credentials: add them to the proxy URL or use a proxy that lets credmon through.")
	case ex.status >= 300 && ex.status < 400:
		loc := ex.header.Get("Location")
		detail := fmt.Sprintf("The API answered %s", statusText(ex.status))
		hint := "Point the check's url at the final address, or set follow_redirects: true (same host only)."
		if u, err := url.Parse(loc); err == nil && u.Host != "" {
			orig, _ := url.Parse(c.Cfg.URL)
			if orig != nil && u.Host != orig.Host {
				host := ex.text(u.Host)
				detail += " redirecting to " + host + "; credmon does not forward credentials to another host"
				hint = "Point the check's url at " + host + " directly if that host is meant to receive the credential."
			}
		}
		res.SetCause(CauseUnexpectedStatus, detail, hint)
	case len(cs) > 0 || (ex.status == http.StatusBadRequest && schemeless(auth)):
		// Any status that carries an authentication challenge is an
		// authentication answer: RFC 6750 §3.1 gives invalid_request a
		// 400, and resource servers send it with a Bearer challenge when
		// the token arrives without its scheme.
		c.diagnoseAuth(res, ex, cs, auth, expired, now, clk)
	default:
		hint := "Not a credential problem as far as credmon can tell: check the API's health and the check's url and expect.status."
		if ex.status == http.StatusNotFound {
			hint = "Check the path in the check's url (some APIs answer 404 to hide resources from unauthorised callers)."
		} else if ex.status >= 500 {
			hint = "The API is failing on its side; credentials cannot be judged until it recovers."
		}
		res.SetCause(CauseUnexpectedStatus, fmt.Sprintf("The API answered %s; expected %s", statusText(ex.status), c.expectedText()), hint)
	}

	if ex.status == http.StatusUnauthorized && len(cs) == 0 {
		res.AddFinding(Finding{Cause: CauseMissingChallenge,
			Detail: "The 401 carried no WWW-Authenticate header (RFC 9110 requires one), so the server gave no reason",
			Hint:   "Ask the API owner to send a WWW-Authenticate challenge; meanwhile run `credmon explain` to see the full response."})
	}
	c.serverClock(res, ex, clk)
}

// diagnoseAuth explains an authentication answer: a 401, or any status
// that carries a challenge.
func (c *Check) diagnoseAuth(res *Result, ex *exchange, cs []challenge.Challenge, auth *Authorization, expired bool, now time.Time, clk clocks) {
	ch := res.Challenge
	suffix := challengeSuffix(ch)
	answered := "The API answered " + statusText(ex.status)
	if len(cs) > 1 {
		answered += fmt.Sprintf(" with %d challenges (%s)", len(cs), schemesOf(cs))
	} else if ch != nil && ex.status != http.StatusUnauthorized {
		answered += " with a " + clip(ch.Scheme, 32) + " challenge"
	}
	switch {
	case auth == nil:
		res.SetCause(CauseMissingCredential, "The API requires authentication but this check sends no credential"+suffix,
			"Add `credential:` to the check.")
	case schemeless(auth):
		want := "Bearer"
		if ch != nil && !ch.Is("Bearer") && ch.Scheme != "" {
			want = ch.Scheme
		}
		res.SetCause(CauseMalformedCredential,
			fmt.Sprintf("%s%s: credmon sent `%s: %s` with no authentication scheme", answered, suffix, auth.Header, auth.redacted()),
			fmt.Sprintf("Set `scheme: %s` on the credential (remove `scheme: \"\"`): the API expects `%s: %s <key>`.", want, auth.Header, want))
	case ch != nil && ch.Is("Bearer") && !strings.EqualFold(auth.Header, "Authorization") && ch.BearerError() == challenge.BearerErrorNone:
		res.SetCause(CauseMalformedCredential,
			fmt.Sprintf("%s asking for a Bearer token in Authorization, but the key is sent in %s", answered, auth.Header),
			"Remove `header:` from the credential (or set `header: Authorization`, `scheme: Bearer`): the API's challenge asks for `Authorization: Bearer <key>`.")
	case ch != nil && strings.EqualFold(auth.Header, "Authorization") && sentScheme(auth) != "" && !offers(cs, sentScheme(auth)):
		res.SetCause(CauseMalformedCredential,
			fmt.Sprintf("%s asking for %s, but credmon sent scheme %s", answered, schemesOf(cs), clip(sentScheme(auth), 32)),
			fmt.Sprintf("The API does not take %s credentials here: check the credential's type and `scheme` against the API's documentation (its challenge names %s).", clip(sentScheme(auth), 32), schemesOf(cs)))
	case expired:
		hint := "Issue a new token and update the secret; for tokens that expire by design use an oauth2 credential so credmon refreshes them."
		res.SetCause(CauseTokenExpired,
			fmt.Sprintf("The token expired %s (exp %s)%s", ago(now, *res.Token.ExpiresAt), res.Token.ExpiresAt.UTC().Format(time.RFC3339), suffix),
			withClock(hint, clockHint(res.Token, now, clk)))
	case ch != nil && ch.BearerError() == challenge.BearerInvalidToken && ch.SaysExpired():
		hint := "Issue a new token. If our copy of the token says it is still valid, the server's clock or its leeway disagrees with ours: compare clocks (credmon status shows offsets)."
		if h := clockHint(res.Token, now, clk); h != "" {
			hint = h
		}
		res.SetCause(CauseTokenExpired, "The API says the token expired"+suffix, hint)
	case c.opaqueWhereJWT(auth, ch, ex):
		res.SetCause(CauseInvalidToken,
			fmt.Sprintf("The API cannot parse the token as a JWT%s: the authorization server issued an opaque token, which is not revoked but is not meant for this API", suffix),
			opaqueHint(c.Cred.Config()))
	case receivedNothing(ch, ex) && strings.EqualFold(auth.Header, "Authorization"):
		res.SetCause(CauseUnauthorized,
			fmt.Sprintf("%s%s saying no credential arrived, though credmon sent %s: %s", answered, challengeText(ch), auth.Header, auth.redacted()),
			c.droppedHint(auth))
	case auth.Fetched:
		// A token fetched for this very request was refused: no fresher one
		// exists, so the grant itself is dead.
		res.SetCause(CauseRevoked,
			"The API rejected a token fetched moments ago: the credential itself has been revoked or disabled"+suffix,
			withClock("Re-enable the client or issue a new credential at the provider, then update the secret; token refresh cannot fix this.", clockHint(res.Token, now, clk)))
	case ch != nil && ch.BearerError() == challenge.BearerInvalidToken:
		hint := "The token is malformed, revoked, or issued by another authorization server: issue a new one from the right issuer and update the secret."
		if skew := futureClaimHint(res.Token, now, clk); skew != "" {
			hint = skew
		} else {
			hint = withClock(hint, clockHint(res.Token, now, clk))
		}
		res.SetCause(CauseInvalidToken, "The API rejected the token as invalid"+suffix, hint)
	case ch != nil && ch.BearerError() == challenge.BearerInvalidRequest && strings.EqualFold(auth.Header, "Authorization") && !strings.EqualFold(schemeOf(auth), "Bearer") && ch.Is("Bearer"):
		res.SetCause(CauseMalformedCredential, fmt.Sprintf("%s saying the request is malformed%s: the key is sent with scheme %q, not Bearer", answered, suffix, schemeOf(auth)),
			"Set `scheme: Bearer` on the credential (or remove `scheme: \"\"`): the API expects `Authorization: Bearer <key>`.")
	case ch != nil && ch.BearerError() == challenge.BearerInvalidRequest:
		res.SetCause(CauseUnauthorized, answered+" saying the request is malformed"+suffix,
			fmt.Sprintf("Check how the credential is sent: header %s, scheme %q. Most APIs want `Authorization: Bearer <key>`; `credmon explain %s -compare` tries the form the challenge asks for.", auth.Header, schemeOf(auth), res.Key()))
	default:
		hint := fmt.Sprintf("The key (%s) is wrong, revoked, or for another API or environment: compare it with the provider's dashboard; `credmon explain %s` shows the full exchange.", auth.Identity, res.Key())
		if skew := futureClaimHint(res.Token, now, clk); skew != "" {
			hint = skew
		} else {
			hint = withClock(hint, clockHint(res.Token, now, clk))
		}
		res.SetCause(CauseUnauthorized, answered+suffix, hint)
	}
}

func (c *Check) statusExpected(code int) bool {
	if len(c.Cfg.Expect.Status) == 0 {
		return code >= 200 && code < 300
	}
	return slices.Contains(c.Cfg.Expect.Status, code)
}

func (c *Check) expectedText() string {
	if len(c.Cfg.Expect.Status) == 0 {
		return "2xx"
	}
	parts := make([]string, len(c.Cfg.Expect.Status))
	for i, s := range c.Cfg.Expect.Status {
		parts[i] = fmt.Sprint(s)
	}
	return strings.Join(parts, " or ")
}

// authErrorWords are body error codes that mean the credential is dead even
// though the status says success (Slack-style {"ok": false}).
var authErrorWords = map[string]Cause{
	"invalid_auth": CauseUnauthorized, "not_authed": CauseUnauthorized, "account_inactive": CauseUnauthorized,
	"token_revoked": CauseRevoked, "token_expired": CauseTokenExpired, "invalid_token": CauseInvalidToken,
	"token_inactive": CauseInvalidToken, "unauthorized": CauseUnauthorized,
}

// bodyMismatch checks expect.json; ok is false when the body disagrees.
func bodyMismatch(want map[string]any, ex *exchange) (detail string, cause Cause, ok bool) {
	if len(want) == 0 {
		return "", "", true
	}
	var got map[string]any
	if err := json.Unmarshal(ex.body, &got); err != nil {
		return fmt.Sprintf("The API answered %s but the body is not a JSON object (expect.json is set)", statusText(ex.status)), CauseUnexpectedStatus, false
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !jsonEqual(got[k], want[k]) {
			detail = fmt.Sprintf("The API answered %s but the body's %q is %s, expected %s", statusText(ex.status), k, short(ex.text(jsonText(got[k]))), short(jsonText(want[k])))
			cause = CauseUnexpectedStatus
			if e, isStr := got["error"].(string); isStr {
				detail += fmt.Sprintf(" (error %q)", clip(ex.text(e), 80))
				if mapped, known := authErrorWords[strings.ToLower(e)]; known {
					cause = mapped
				}
			}
			return detail, cause, false
		}
	}
	return "", "", true
}

// jsonEqual compares a decoded JSON value with a YAML-configured one
// (numbers may be int in YAML and float64 in JSON).
func jsonEqual(got, want any) bool {
	if g, ok := toFloat(got); ok {
		if w, ok := toFloat(want); ok {
			return g == w
		}
	}
	return reflect.DeepEqual(got, want)
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

// jsonText renders a decoded JSON value as JSON, "" when it is missing.
func jsonText(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// short cuts a rendered value for a detail sentence.
func short(s string) string {
	if s == "" {
		return "missing"
	}
	return clip(s, 60)
}

// clip cuts s to at most n bytes on a character boundary, marking the cut.
// Redact first: a secret cut in half no longer matches.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

// challengeSuffix renders the server's own words for a detail sentence.
func challengeSuffix(ch *challenge.Challenge) string {
	if ch == nil {
		return ""
	}
	var parts []string
	if ch.Error != "" {
		parts = append(parts, fmt.Sprintf("error=%q", clip(ch.Error, 64)))
	}
	if ch.ErrorDescription != "" {
		parts = append(parts, fmt.Sprintf("%q", clip(ch.ErrorDescription, 160)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ": ") + ")"
}

// sentScheme is the scheme word of the Authorization value sent, "" when
// there is none.
func sentScheme(a *Authorization) string {
	if i := strings.IndexByte(a.Value, ' '); i > 0 {
		return a.Value[:i]
	}
	return ""
}

// offers reports whether the server offers scheme among its challenges.
func offers(cs []challenge.Challenge, scheme string) bool {
	for _, c := range cs {
		if c.Is(scheme) {
			return true
		}
	}
	return false
}

func schemeOf(a *Authorization) string {
	if i := strings.IndexByte(a.Value, ' '); i > 0 && a.Value[i+1:] == a.Token {
		return a.Value[:i]
	}
	return ""
}

func ago(now, t time.Time) string {
	return duration.Human(now.Sub(t)) + " ago"
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "ahead of"
	}
	return "behind"
}
