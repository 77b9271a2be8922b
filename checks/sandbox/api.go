package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Error descriptions the API puts in its challenges; tests and diagnosis
// code match on them.
const (
	DescMissingScheme = "missing Bearer scheme"
	DescUnknownKey    = "unknown API key"
	DescKeyRolled     = "API key was rolled"
	DescExpired       = "The access token expired"
	DescRevoked       = "token revoked"
)

var okBody = map[string]any{"ok": true}

// bearerKey accepts "Authorization: Bearer KEY" for any of keys.
func (s *Sandbox) bearerKey(keys ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(w, r)
		if !ok {
			return
		}
		for _, k := range keys {
			if tok == k {
				writeJSON(w, http.StatusOK, okBody)
				return
			}
		}
		denyBearer(w, http.StatusUnauthorized, "invalid_token", DescUnknownKey, "")
	}
}

// bearerJWT accepts tokens this sandbox issued and that are still valid; a
// non-empty scope must be among the token's scopes.
func (s *Sandbox) bearerJWT(scope string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(w, r)
		if !ok {
			return
		}
		claims, problem := s.verifyToken(tok, time.Now())
		if problem != "" {
			denyBearer(w, http.StatusUnauthorized, "invalid_token", problem, "")
			return
		}
		if scope != "" && !hasScope(claims.Scope, scope) {
			denyBearer(w, http.StatusForbidden, "insufficient_scope", "", scope)
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	}
}

// serveRotating accepts the current key, and the previous one until
// RevokePrevious: the overlap window of a key rotation.
func (s *Sandbox) serveRotating(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(w, r)
	if !ok {
		return
	}
	switch {
	case tok == KeyRotatingCurrent:
		writeJSON(w, http.StatusOK, okBody)
	case tok == KeyRotatingPrevious && !s.previousRevoked.Load():
		writeJSON(w, http.StatusOK, okBody)
	case tok == KeyRotatingPrevious:
		denyBearer(w, http.StatusUnauthorized, "invalid_token", DescKeyRolled, "")
	default:
		denyBearer(w, http.StatusUnauthorized, "invalid_token", DescUnknownKey, "")
	}
}

// serveLegacy breaks RFC 9110 on purpose: its 401 carries no
// WWW-Authenticate, as many older APIs do.
func (s *Sandbox) serveLegacy(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-API-Key") == KeyLegacy {
		writeJSON(w, http.StatusOK, okBody)
		return
	}
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
}

// serveSlackAuthTest answers like Slack's auth.test: HTTP 200 whatever the
// token, with the verdict only in the body.
func (s *Sandbox) serveSlackAuthTest(w http.ResponseWriter, r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	switch {
	case h == "":
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "not_authed"})
	case ok && tok == SlackTokenActive:
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "team": "sandbox", "user": "credmon"})
	case ok && tok == SlackTokenInactive:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "token_inactive"})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
	}
}

// serveReports checks HTTP Basic credentials.
func (s *Sandbox) serveReports(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if ok && user == BasicUser && pass == BasicPassword {
		writeJSON(w, http.StatusOK, okBody)
		return
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`", charset="UTF-8"`)
	writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
}

// skewedDate makes h's responses carry a Date ClockSkew ahead of ours, as a
// server with a drifted clock does. net/http keeps a Date the handler set.
func (s *Sandbox) skewedDate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(ClockSkew).UTC().Format(http.TimeFormat))
		h(w, r)
	}
}

// bearer returns the token of "Authorization: Bearer TOKEN", or answers the
// request with the RFC 6750 challenge and returns false. The scheme must be
// spelled exactly, as many real APIs require.
func bearer(w http.ResponseWriter, r *http.Request) (string, bool) {
	vals := r.Header.Values("Authorization")
	switch {
	case len(vals) == 0:
		// RFC 6750 §3.1: no error code when the request had no credentials.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "unauthorized"})
		return "", false
	case len(vals) > 1:
		denyBearer(w, http.StatusUnauthorized, "invalid_request", "more than one Authorization header", "")
		return "", false
	}
	tok, ok := strings.CutPrefix(vals[0], "Bearer ")
	if !ok || tok == "" {
		denyBearer(w, http.StatusUnauthorized, "invalid_request", DescMissingScheme, "")
		return "", false
	}
	return tok, true
}

// denyBearer answers with an RFC 6750 challenge and the same fields in the
// body. Descriptions are our own constants, so need no escaping.
func denyBearer(w http.ResponseWriter, status int, code, desc, scope string) {
	v := `Bearer realm="` + realm + `", error="` + code + `"`
	body := map[string]any{"error": code}
	if desc != "" {
		v += `, error_description="` + desc + `"`
		body["error_description"] = desc
	}
	if scope != "" {
		v += `, scope="` + scope + `"`
		body["scope"] = scope
	}
	w.Header().Set("WWW-Authenticate", v)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func hasScope(granted, want string) bool {
	for _, s := range strings.Fields(granted) {
		if s == want {
			return true
		}
	}
	return false
}
