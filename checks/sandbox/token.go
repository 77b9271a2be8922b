package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Claims describes a token for MintToken.
type Claims struct {
	Subject  string        // also the client the token belongs to
	Scope    string        // space-separated
	TTL      time.Duration // from now; negative for an already expired token
	Issuer   string        // default Issuer()
	Audience string        // default Audience()
}

// issuedToken is what the sandbox remembers of a token it minted, so its API
// can refuse well-formed tokens it never issued.
type issuedToken struct {
	client  string
	revoked bool
}

type jwtClaims struct {
	Iss   string `json:"iss"`
	Sub   string `json:"sub"`
	Aud   string `json:"aud"`
	Scope string `json:"scope,omitempty"`
	Iat   int64  `json:"iat"`
	Exp   int64  `json:"exp"`
	Jti   string `json:"jti"`
}

// clients are the OAuth2 clients the token endpoint knows, with the scopes
// each may be granted; the first is the default when none is requested.
var clients = map[string]struct {
	secret string
	scopes []string
}{
	ClientID:        {ClientSecret, []string{ScopeBilling, ScopeAdmin}},
	RevokedClientID: {RevokedClientSecret, []string{ScopeBilling}},
}

// jwtHeader is fixed: the sandbox's tokens are unsigned ("alg":"none")
// because its API trusts only tokens it remembers issuing.
var jwtHeader = b64(`{"alg":"none","typ":"JWT"}`)

// MintToken issues a JWT the sandbox's API accepts while it is valid, for
// tests that need a token with particular claims. Tokens whose Subject is
// RevokedClientID are refused as revoked, like the token endpoint's.
func (s *Sandbox) MintToken(c Claims) string {
	if c.Issuer == "" {
		c.Issuer = s.Issuer()
	}
	if c.Audience == "" {
		c.Audience = s.Audience()
	}
	now := time.Now()
	jti := make([]byte, 12)
	_, _ = rand.Read(jti) // never fails (crypto/rand documents so)
	payload, _ := json.Marshal(jwtClaims{
		Iss: c.Issuer, Sub: c.Subject, Aud: c.Audience, Scope: c.Scope,
		Iat: now.Unix(), Exp: now.Add(c.TTL).Unix(), Jti: hex.EncodeToString(jti),
	})
	tok := jwtHeader + "." + b64(string(payload)) + "."
	s.mu.Lock()
	// Tokens are never forgotten: the sandbox lives for a demo or a test,
	// and an expired token must still be recognised as ours.
	s.tokens[tok] = issuedToken{client: c.Subject, revoked: c.Subject == RevokedClientID}
	s.mu.Unlock()
	return tok
}

// verifyToken returns the token's claims, or why the API refuses it.
func (s *Sandbox) verifyToken(tok string, now time.Time) (jwtClaims, string) {
	var c jwtClaims
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c, "malformed token"
	}
	s.mu.Lock()
	rec, ok := s.tokens[tok]
	s.mu.Unlock()
	if !ok {
		return c, "unknown token"
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(raw, &c) != nil {
		return c, "malformed token"
	}
	switch {
	case rec.revoked:
		return c, DescRevoked
	case c.Iss != s.Issuer():
		return c, "wrong issuer"
	case c.Aud != s.Audience():
		return c, "wrong audience"
	case now.Unix() >= c.Exp:
		return c, DescExpired
	}
	return c, ""
}

// serveToken is an RFC 6749 §4.4 client-credentials token endpoint.
func (s *Sandbox) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "invalid_request", "error_description": "POST required"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.denyGrant(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	form := r.PostForm

	// RFC 6749 §2.3.1 allows HTTP Basic or form parameters, not both; Basic
	// credentials are form-encoded before base64.
	id, secret := form.Get("client_id"), form.Get("client_secret")
	user, pass, basic := r.BasicAuth()
	if basic {
		if secret != "" {
			s.denyGrant(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			id, secret = "", ""
		}
	}
	client, known := clients[id]
	if !known || secret == "" || secret != client.secret {
		if basic {
			// RFC 6749 §5.2: a client that used Basic gets a Basic challenge.
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
		}
		s.denyGrant(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}

	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		s.denyGrant(w, http.StatusBadRequest, "invalid_request", "missing grant_type")
		return
	default:
		s.denyGrant(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}

	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		scopes = client.scopes[:1]
	}
	for _, sc := range scopes {
		if !slices.Contains(client.scopes, sc) {
			s.denyGrant(w, http.StatusBadRequest, "invalid_scope", "scope not allowed for this client")
			return
		}
	}
	// Auth0-style "audience" and RFC 8707 "resource" both name the API.
	for _, p := range []string{"audience", "resource"} {
		if v := form.Get(p); v != "" && v != s.Audience() {
			s.denyGrant(w, http.StatusBadRequest, "invalid_target", "unknown "+p)
			return
		}
	}

	scope := strings.Join(scopes, " ")
	tok := s.MintToken(Claims{Subject: id, Scope: scope, TTL: TokenLifetime})
	s.mu.Lock()
	s.grants[id]++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(TokenLifetime / time.Second),
		"scope":        scope,
	})
}

func (s *Sandbox) denyGrant(w http.ResponseWriter, status int, code, desc string) {
	s.mu.Lock()
	s.denials[code]++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
