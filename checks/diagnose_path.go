package checks

import (
	"fmt"
	"strings"

	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/jwt"
	"github.com/credmon/credmon/checks/redact"
)

// missingTokenCodes are error codes servers use for "no credential in the
// request" (RFC 6750 itself says to send no error code then).
var missingTokenCodes = []string{"missing_token", "no_token", "token_missing", "missing_authorization", "unauthenticated_request"}

// nothingArrivedPhrases are the words of resource servers and gateways
// for a request that reached them without a credential.
var nothingArrivedPhrases = []string{
	"no authorization header", "missing authorization header", "authorization header is missing",
	"authorization header required", "authorization header not found", "no auth header",
	"missing bearer token", "no bearer token", "bearer token not found", "bearer token is missing",
	"no token provided", "token not provided", "missing access token", "no access token",
	"no credentials were provided", "authentication credentials were not provided",
	"missing authentication token", "full authentication is required",
}

// receivedNothing reports whether the API's answer says no credential
// arrived: an RFC 6750 Bearer challenge without an error code (§3.1: "If
// the request lacks any authentication information … SHOULD NOT include an
// error code"), a missing_token code, or words to that effect in the
// challenge or the body.
func receivedNothing(ch *challenge.Challenge, ex *exchange) bool {
	if ch != nil {
		code := strings.ToLower(strings.TrimSpace(ch.Error))
		for _, m := range missingTokenCodes {
			if code == m {
				return true
			}
		}
		if ch.Is("Bearer") && ch.BearerError() == challenge.BearerErrorNone && ch.Token68 == "" {
			return true
		}
		if said(ch.ErrorDescription, nothingArrivedPhrases) {
			return true
		}
	}
	body := ex.body
	if len(body) > 4<<10 {
		body = body[:4<<10]
	}
	return said(ex.text(string(body)), nothingArrivedPhrases)
}

// said reports whether free text contains one of phrases, compared on
// lower-case words joined by single spaces.
func said(text string, phrases []string) bool {
	if text == "" {
		return false
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	joined := " " + strings.Join(words, " ") + " "
	for _, p := range phrases {
		if strings.Contains(joined, " "+p+" ") {
			return true
		}
	}
	return false
}

// droppedHint names what may sit between credmon and the API.
func (c *Check) droppedHint(auth *Authorization) string {
	compare := fmt.Sprintf("`credmon explain %s -compare` replays the probe with and without the proxy, on a fresh connection and over HTTP/1.1 and HTTP/2 to find the hop.", c.Key())
	if c.Cfg.ProxyURL != "" {
		return fmt.Sprintf("Something between credmon and the API dropped the %s header: most likely the proxy in proxy_url (%s), which strips or rewrites it — let it pass %s through, or bypass it for this API. %s",
			auth.Header, redact.URL(c.Cfg.ProxyURL, c.sensitive), auth.Header, compare)
	}
	return fmt.Sprintf("Something between credmon and the API dropped the %s header: a gateway, load balancer or sidecar in front of the API that strips it, or one that binds authentication to a connection. %s", auth.Header, compare)
}

// challengeText renders a challenge for a detail sentence.
func challengeText(ch *challenge.Challenge) string {
	if ch == nil {
		return ""
	}
	return fmt.Sprintf(" (WWW-Authenticate: %s)", clip(ch.String(), 160))
}

// schemesOf lists the schemes of several challenges.
func schemesOf(cs []challenge.Challenge) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = clip(c.Scheme, 32)
	}
	return strings.Join(names, ", ")
}

// notAJWTPhrases are how JWT-validating resource servers say a token is
// not a JWT at all: Spring ("Malformed token", "An error occurred while
// attempting to decode the Jwt"), Microsoft.IdentityModel (IDX14100 "JWT
// is not well formed"), golang-jwt ("token contains an invalid number of
// segments"), express-jwt ("jwt malformed"), jose ("Invalid Compact JWS").
var notAJWTPhrases = []string{
	"malformed", "jwt malformed", "not well formed", "invalid number of segments", "compact jws",
	"decode the jwt", "invalid jwt", "jwt is not", "not a jwt", "invalid jws", "unable to parse",
}

// opaqueWhereJWT reports an OAuth2 access token that is not a JWT sent to
// an API that wanted one: the authorization server issued an opaque token
// (only it can read) because no audience or resource was requested.
func (c *Check) opaqueWhereJWT(auth *Authorization, ch *challenge.Challenge, ex *exchange) bool {
	if auth == nil || c.Cred == nil || !isOAuth2(c.Cred.Config()) || jwt.LooksLikeJWT(auth.Token) {
		return false
	}
	if ch != nil && said(ch.ErrorDescription, notAJWTPhrases) {
		return true
	}
	body := ex.body
	if len(body) > 4<<10 {
		body = body[:4<<10]
	}
	return said(ex.text(string(body)), notAJWTPhrases)
}

func isOAuth2(c *config.Credential) bool {
	return c.Type == config.TypeOAuth2ClientCredentials || c.Type == config.TypeOAuth2RefreshToken
}

// opaqueHint names the parameter that makes the server issue a JWT.
func opaqueHint(c *config.Credential) string {
	_, hasResource := c.EndpointParams["resource"]
	_, hasAudience := c.EndpointParams["audience"]
	if c.Audience == "" && !hasResource && !hasAudience {
		return "Request the token for this API: set `audience:` on the credential to the API's identifier (Auth0, Okta and most servers issue a JWT only for a named audience), or `endpoint_params: {resource: API-URL}` for RFC 8707 servers. Refreshing will not help: every token will be opaque until one is requested."
	}
	return fmt.Sprintf("The grant already names an audience or resource (%s): check that it is this API's identifier at the authorization server, and that the API is set to receive JWT access tokens.", audienceOf(c))
}

func audienceOf(c *config.Credential) string {
	switch {
	case c.Audience != "":
		return "audience " + c.Audience
	case c.EndpointParams["resource"] != "":
		return "resource " + c.EndpointParams["resource"]
	}
	return "audience " + c.EndpointParams["audience"]
}
