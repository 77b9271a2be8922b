package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/credmon/credmon/checks/jwt"
)

// guard applies environment guards before anything is sent: a key with
// another environment's prefix, or a JWT from another issuer or for another
// audience, is wrong_environment and is not sent at all. It also records the
// token's claims on the result.
func (c *Check) guard(a *Authorization, res *Result) *Failure {
	cfg := c.Cred.Config()
	if len(cfg.ExpectPrefix) > 0 && !hasAnyPrefix(a.Token, cfg.ExpectPrefix) {
		got := VendorPrefix(a.Token)
		what := "does not start with"
		if got != "" {
			what = fmt.Sprintf("starts with %s, not", got)
		}
		return &Failure{Cause: CauseWrongEnvironment,
			Detail: fmt.Sprintf("The key (%s) %s %s as %s keys must; it was not sent", cfg.Secret.Describe(), what, strings.Join(cfg.ExpectPrefix, " or "), c.Env),
			Hint:   fmt.Sprintf("A key from another environment is deployed here: replace the secret (%s) with the %s key.", cfg.Secret.Describe(), c.Env)}
	}
	info := c.claims(a.Token)
	if info == nil {
		return nil
	}
	res.Token = info
	if want := c.Expect.Issuer; want != "" && info.Issuer != "" && !sameIssuer(info.Issuer, want) {
		return &Failure{Cause: CauseWrongEnvironment, Token: info,
			Detail: fmt.Sprintf("The token was issued by %s but %s expects %s; it was not sent", info.Issuer, c.Env, want),
			Hint:   fmt.Sprintf("A token from another environment is deployed here: issue one from %s and replace the secret (%s) with it.", want, cfg.Secret.Describe())}
	}
	if want := c.Expect.Audience; want != "" && len(info.Audience) > 0 && !slices.Contains(info.Audience, want) {
		return &Failure{Cause: CauseWrongEnvironment, Token: info,
			Detail: fmt.Sprintf("The token is for audience %s but %s expects %s; it was not sent", strings.Join(info.Audience, ", "), c.Env, want),
			Hint:   fmt.Sprintf("Request the token for audience %s (the `audience` parameter of the grant).", want)}
	}
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// sameIssuer compares issuers ignoring one trailing slash, a common
// difference between configuration and tokens.
func sameIssuer(a, b string) bool {
	return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/")
}

// decoded is the last token a check decoded: a cached or static token is
// the same on every probe, so it is decoded once, not at every tick.
type decoded struct {
	token string
	info  *TokenInfo // nil when the token is not a JWT
}

// claims returns the diagnostic claims of token, or nil if it is no JWT.
// The returned TokenInfo is shared by results and must not be changed.
func (c *Check) claims(token string) *TokenInfo {
	if d := c.lastToken.Load(); d != nil && d.token == token {
		return d.info
	}
	var info *TokenInfo
	if jwt.LooksLikeJWT(token) {
		if tok, err := jwt.Decode(token); err == nil {
			info = tokenInfo(tok)
		}
	}
	c.lastToken.Store(&decoded{token: token, info: info})
	return info
}

// tokenInfo keeps the claims that matter for diagnosis.
func tokenInfo(t *jwt.Token) *TokenInfo {
	return &TokenInfo{
		Issuer:    t.Issuer,
		Audience:  t.Audience,
		Subject:   t.Subject,
		Scope:     t.Scope,
		ExpiresAt: t.ExpiresAt,
		IssuedAt:  t.IssuedAt,
		NotBefore: t.NotBefore,
	}
}
