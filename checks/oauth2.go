package checks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/sync/singleflight"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/jwt"
	"github.com/credmon/credmon/checks/redact"
)

func init() {
	registerKind(config.TypeOAuth2ClientCredentials, newOAuth2)
	registerKind(config.TypeOAuth2RefreshToken, newOAuth2)
}

// oauth2Cred obtains access tokens from a token endpoint (RFC 6749 client
// credentials or refresh token grant) and shares them through the token
// cache: one fetch serves every check until refresh_before the expiry.
type oauth2Cred struct {
	cfg       *config.Credential
	key       string
	deps      Deps
	client    *http.Client
	flight    singleflight.Group
	sensitive sensitiveSet
	grant     atomic.Pointer[grantSecrets]
}

var _ Refresher = (*oauth2Cred)(nil)

func newOAuth2(c *config.Credential, deps Deps) (Credential, error) {
	tr, err := deps.Transports.For(&config.Check{})
	if err != nil {
		return nil, err
	}
	return &oauth2Cred{
		cfg:  c,
		key:  c.Env + "/" + c.Name,
		deps: deps,
		// A token endpoint's redirect is never followed: the request
		// carries the client secret or the refresh token, and the
		// redirect's target would receive them (and could answer with a
		// token of its choosing).
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: noRedirect},
	}, nil
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (o *oauth2Cred) Config() *config.Credential { return o.cfg }

func (o *oauth2Cred) Sensitive() *redact.Set {
	if s := o.sensitive.last(); s != nil {
		return s
	}
	return o.sensitiveNow(nil)
}

// sensitiveNow is the set of everything this grant holds: the client
// secret, the configured refresh token and, from t (the cached token), the
// current access and refresh tokens.
func (o *oauth2Cred) sensitiveNow(t *Token) *redact.Set {
	var access, refresh string
	if t != nil {
		access, refresh = t.AccessToken, t.RefreshToken
	}
	g := o.grant.Load()
	if g == nil {
		g = &grantSecrets{resolvedText(o.cfg.ClientSecret), resolvedText(o.cfg.RefreshToken)}
		o.grant.Store(g)
	}
	return o.sensitive.of(g.clientSecret, g.refreshToken, access, refresh)
}

// grantSecrets are the grant's own secrets as the last fetch resolved
// them: a probe served from the token cache reads no secret file.
type grantSecrets struct{ clientSecret, refreshToken string }

func (o *oauth2Cred) refreshBefore() time.Duration {
	if d := o.cfg.RefreshBefore.D(); d > 0 {
		return d
	}
	return config.DefaultRefreshBefore
}

// Authorize returns the cached token while it is fresh, else fetches one —
// once per process however many checks ask at the same moment.
func (o *oauth2Cred) Authorize(ctx context.Context) (*Authorization, error) {
	if t, _ := o.deps.Tokens.LoadToken(ctx, o.key); o.fresh(t) {
		o.deps.Metrics.tokenCacheHit(o.cfg.Env, o.cfg.Name)
		return o.authorization(t, false), nil
	}
	ch := o.flight.DoChan(o.key, func() (any, error) {
		// The fetch outlives any one caller's cancellation: others wait on it.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if t, _ := o.deps.Tokens.LoadToken(fctx, o.key); o.fresh(t) {
			return t, nil
		}
		return o.fetchShared(fctx)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return o.authorization(res.Val.(*Token), !res.Shared), nil
	}
}

func (o *oauth2Cred) fresh(t *Token) bool {
	return t != nil && t.AccessToken != "" && o.deps.Now().Add(o.refreshBefore()).Before(t.Expiry)
}

func (o *oauth2Cred) authorization(t *Token, fetched bool) *Authorization {
	return &Authorization{
		Header:    "Authorization",
		Value:     "Bearer " + t.AccessToken,
		Token:     t.AccessToken,
		Identity:  fmt.Sprintf("%s client_id=%s token %s", o.cfg.Type, o.cfg.ClientID, Fingerprint(t.AccessToken)),
		Fetched:   fetched,
		Sensitive: o.sensitiveNow(t),
	}
}

// Invalidate drops a rejected token so the next Authorize fetches anew.
// A refresh token is kept: it is the only way to get the next one.
func (o *oauth2Cred) Invalidate(ctx context.Context, a *Authorization) error {
	t, err := o.deps.Tokens.LoadToken(ctx, o.key)
	if err != nil || t == nil || t.AccessToken != a.Token {
		return err
	}
	if t.RefreshToken != "" {
		t.AccessToken, t.Expiry = "", time.Time{}
		if r, ok := o.deps.Tokens.(TokenReplacer); ok {
			// Only if nobody refreshed meanwhile: writing back our copy
			// would resurrect a refresh token that is already redeemed.
			return r.ReplaceToken(ctx, o.key, a.Token, t)
		}
		return o.deps.Tokens.StoreToken(ctx, o.key, t)
	}
	return o.deps.Tokens.DeleteToken(ctx, o.key, a.Token)
}

// Cross-replica refresh: the lock outlives a normal fetch (bounded by its
// 30 s timeout); a waiting replica polls the cache cheaply and gives up on
// a silent lock holder after refreshWait.
const (
	refreshLockTTL = 30 * time.Second
	refreshPoll    = 25 * time.Millisecond
	refreshWait    = 5 * time.Second
)

// fetchShared fetches a token — with a shared cache, on one replica at a
// time. A replica that finds the lock taken does not queue behind it: it
// watches the cache for the holder's token, taking the lock itself if it
// frees without one, and fetches anyway after refreshWait (the holder may
// have died). It never redeems a refresh token it read before the holder's
// write: fetch reads the refresh token only once it holds the lock.
func (o *oauth2Cred) fetchShared(ctx context.Context) (*Token, error) {
	locker, ok := o.deps.Tokens.(TokenLocker)
	if !ok {
		return o.fetch(ctx)
	}
	deadline := time.Now().Add(refreshWait)
	tick := time.NewTicker(refreshPoll)
	defer tick.Stop()
	for {
		unlock, won, err := locker.LockRefresh(ctx, o.key, refreshLockTTL)
		if err != nil {
			// The store is unreachable: nobody can coordinate, so probing
			// with a token of our own beats not probing.
			return o.fetch(ctx)
		}
		if won {
			defer unlock()
			// The previous holder may have stored (and rotated) just now.
			if t, _ := o.deps.Tokens.LoadToken(ctx, o.key); o.fresh(t) {
				return t, nil
			}
			return o.fetch(ctx)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		if t, _ := o.deps.Tokens.LoadToken(ctx, o.key); o.fresh(t) {
			return t, nil
		}
		if time.Now().After(deadline) {
			return o.fetch(ctx)
		}
	}
}

// fetch runs the grant and caches the token.
func (o *oauth2Cred) fetch(ctx context.Context) (*Token, error) {
	secret, err := o.cfg.ClientSecret.ResolveContext(ctx)
	o.grant.Store(&grantSecrets{secret.Text, resolvedText(o.cfg.RefreshToken)})
	if err != nil || (o.cfg.ClientSecret.IsSet() && secret.Text == "") {
		return nil, &Failure{Cause: CauseMissingCredential,
			Detail: fmt.Sprintf("the client secret (%s) is not available", o.cfg.ClientSecret.Describe()),
			Hint:   secretSourceHint(o.cfg.ClientSecret, err)}
	}
	if f := Hygiene(secret, "", o.cfg.ClientSecret); f != nil && o.cfg.ClientSecret.IsSet() {
		return nil, f
	}
	params := url.Values{}
	for k, v := range o.cfg.EndpointParams {
		params.Set(k, v)
	}
	if o.cfg.Audience != "" {
		params.Set("audience", o.cfg.Audience)
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.client)
	var ot *oauth2.Token
	switch o.cfg.Type {
	case config.TypeOAuth2ClientCredentials:
		cc := clientcredentials.Config{ClientID: o.cfg.ClientID, ClientSecret: secret.Text, TokenURL: o.cfg.TokenURL,
			Scopes: o.cfg.Scopes, EndpointParams: params, AuthStyle: authStyle(o.cfg.AuthStyle)}
		ot, err = cc.Token(ctx)
	default:
		ot, err = o.refresh(ctx, secret.Text, params)
	}
	if err != nil {
		o.countFetch("error")
		cached, _ := o.deps.Tokens.LoadToken(ctx, o.key)
		return nil, o.tokenError(err, o.sensitiveNow(cached))
	}
	o.countFetch("ok")
	t := &Token{AccessToken: ot.AccessToken, TokenType: ot.TokenType, RefreshToken: ot.RefreshToken, Expiry: ot.Expiry, ExpirySource: "expires_in", FetchedAt: o.deps.Now()}
	if t.Expiry.IsZero() {
		// No expires_in: trust the JWT's exp if it has one, else assume
		// token_max_age — never cache forever.
		if tok, derr := jwt.Decode(t.AccessToken); derr == nil && tok.ExpiresAt != nil {
			t.Expiry, t.ExpirySource = *tok.ExpiresAt, "jwt"
		} else {
			maxAge := o.cfg.TokenMaxAge.D()
			if maxAge <= 0 {
				maxAge = config.DefaultTokenMaxAge
			}
			t.Expiry, t.ExpirySource = t.FetchedAt.Add(maxAge), "max_age"
		}
	}
	// A cache that cannot store (its shared store is down) must not fail
	// the probe: the token is good, and the cache reports its own outage.
	_ = o.deps.Tokens.StoreToken(ctx, o.key, t)
	return t, nil
}

// refresh runs the refresh_token grant. A rotated refresh token replaces the
// old one in the cache atomically with the access token, so a restart or
// another replica never presents a dead one.
//
// x/oauth2's refresh TokenSource sends no parameters beyond the refresh
// token, so the grant goes through clientcredentials, which lets
// EndpointParams override grant_type: the same RFC 6749 request (auth_style
// header, params or auto-detected), response and *oauth2.RetrieveError,
// now with audience and endpoint_params. Scopes are not sent, as before: a
// refresh keeps the scope of the original grant.
func (o *oauth2Cred) refresh(ctx context.Context, clientSecret string, params url.Values) (*oauth2.Token, error) {
	rt := ""
	if cached, _ := o.deps.Tokens.LoadToken(ctx, o.key); cached != nil && cached.RefreshToken != "" {
		rt = cached.RefreshToken
	} else {
		v, err := o.cfg.RefreshToken.ResolveContext(ctx)
		if err != nil || v.Text == "" {
			return nil, &Failure{Cause: CauseMissingCredential,
				Detail: fmt.Sprintf("the refresh token (%s) is not available", o.cfg.RefreshToken.Describe()),
				Hint:   secretSourceHint(o.cfg.RefreshToken, err)}
		}
		rt = v.Text
	}
	// The grant's own parameters win over endpoint_params of the same name.
	params.Set("grant_type", "refresh_token")
	params.Set("refresh_token", rt)
	conf := clientcredentials.Config{ClientID: o.cfg.ClientID, ClientSecret: clientSecret, TokenURL: o.cfg.TokenURL,
		EndpointParams: params, AuthStyle: authStyle(o.cfg.AuthStyle)}
	ot, err := conf.Token(ctx)
	if err != nil {
		return nil, err
	}
	if ot.RefreshToken == "" {
		ot.RefreshToken = rt // the server kept the old one
	}
	return ot, nil
}

func (o *oauth2Cred) countFetch(outcome string) {
	o.deps.Metrics.tokenFetched(o.cfg.Env, o.cfg.Name, outcome)
}

// tokenError explains a failed grant: refused by the endpoint, redirected,
// or not reached at all. Everything the endpoint said is redacted with
// sensitive before it is cut to length: an endpoint may quote the grant
// it was sent.
func (o *oauth2Cred) tokenError(err error, sensitive *redact.Set) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := sensitive.String(re.ErrorCode)
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if status >= 300 && status < 400 {
			to := "another address"
			if loc, perr := re.Response.Location(); perr == nil && loc.Host != "" {
				to = sensitive.String(loc.Host)
			}
			return &Failure{Cause: CauseTokenEndpointRejected,
				Detail: fmt.Sprintf("The token endpoint answered HTTP %d, redirecting to %s; credmon never follows a token endpoint's redirect, which would carry the grant's secrets", status, to),
				Hint:   fmt.Sprintf("Set token_url to the endpoint's final address if %s is your authorization server; otherwise find out who redirects the token endpoint.", to)}
		}
		desc := sensitive.String(re.ErrorDescription)
		detail := fmt.Sprintf("The token endpoint refused the grant (HTTP %d", status)
		if code != "" {
			detail += fmt.Sprintf(", error=%q", clip(code, 64))
		}
		if desc != "" {
			detail += fmt.Sprintf(": %q", clip(desc, 160))
		}
		detail += ")"
		return &Failure{Cause: CauseTokenEndpointRejected, Detail: detail, Hint: grantHint(code, desc, o.cfg)}
	}
	f := unreachable(err, o.cfg.TokenURL, 30*time.Second, sensitive).(*Failure)
	f.Detail = "token endpoint: " + f.Detail
	return f
}

// grantNotAllowedPhrases are how authorization servers say a client may
// not use a grant type: Auth0 ("Grant type 'client_credentials' not
// allowed for the client"), Okta ("The client is not authorized to use the
// provided grant type"), Keycloak ("Client not enabled to retrieve service
// account").
var grantNotAllowedPhrases = []string{
	"not allowed for the client", "not authorized to use the provided grant type",
	"not enabled to retrieve service account", "grant type not allowed", "grant type is not allowed",
	"unauthorized grant type", "not permitted to use this grant type",
}

// grantHint says what to do about one RFC 6749 §5.2 (or RFC 8707) error,
// in the authorization server's own terms. desc is redacted already.
func grantHint(code, desc string, c *config.Credential) string {
	grant := "client_credentials"
	if c.Type == config.TypeOAuth2RefreshToken {
		grant = "refresh_token"
	}
	code = strings.ToLower(strings.TrimSpace(code))
	if code == "unauthorized_client" || said(desc, grantNotAllowedPhrases) {
		return fmt.Sprintf("The client %s is not allowed the %s grant: enable it for this client at the authorization server (Auth0: Application → Advanced Settings → Grant Types; Okta: Client Credentials under General Settings; Keycloak: Service accounts roles), then run the check again.", c.ClientID, grant)
	}
	switch code {
	case "invalid_client":
		return fmt.Sprintf("The client %s or its secret (%s) is wrong, or the client is disabled — or the server wants the secret sent another way: auth_style header (HTTP Basic) or params (in the body).", c.ClientID, c.ClientSecret.Describe())
	case "invalid_grant":
		if c.Type == config.TypeOAuth2RefreshToken {
			return "The refresh token is expired, revoked or was already used (rotated by another client?): run the authorization flow again and store the new refresh token."
		}
		return "The authorization server refused the grant itself (invalid_grant): check the client's allowed grant types and that its credentials are not expired."
	case "invalid_scope":
		if len(c.Scopes) == 0 {
			return "credmon requested no scope and the server wants one: set `scopes` to scopes this client is granted."
		}
		return fmt.Sprintf("The server refused the requested scopes %s (`scopes`): grant them to client %s at the authorization server, or request only scopes it has.", strings.Join(c.Scopes, " "), c.ClientID)
	case "invalid_target", "invalid_resource":
		return fmt.Sprintf("The server does not know the %s requested (RFC 8707 invalid_target): set it to the API's identifier exactly as registered at the authorization server.", targetOf(c))
	case "access_denied":
		return fmt.Sprintf("The authorization server denies client %s this token (for %s): authorize the client for the API there (Auth0: a client grant for the API).", c.ClientID, targetOf(c))
	case "unsupported_grant_type":
		return fmt.Sprintf("The token endpoint does not support grant_type=%s: check that token_url is the token endpoint (not the authorize endpoint) and that the server offers this grant.", grant)
	case "invalid_request":
		return "The token endpoint says the request is malformed: check token_url, client_id, auth_style and endpoint_params against the authorization server's documentation."
	}
	return "Check token_url, client_id and the client secret against the authorization server."
}

// targetOf names the audience or resource a grant asks for.
func targetOf(c *config.Credential) string {
	if c.Audience == "" && c.EndpointParams["resource"] == "" && c.EndpointParams["audience"] == "" {
		return "audience or resource (none configured)"
	}
	return audienceOf(c)
}

func authStyle(s string) oauth2.AuthStyle {
	switch s {
	case "header":
		return oauth2.AuthStyleInHeader
	case "params":
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}
