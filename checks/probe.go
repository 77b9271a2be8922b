package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/credmon/credmon/checks/challenge"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/jwt"
	"github.com/credmon/credmon/checks/redact"
)

// exchange is one HTTP request and its (bounded) response. What the server
// said is raw here: every piece taken from it for output goes through text
// first, which redacts it against the probe's sensitive sets before it is
// parsed further or cut to length.
type exchange struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
	latency   time.Duration
	sent      time.Time
	sensitive []*redact.Set
}

// text redacts server text with everything the probe holds.
func (ex *exchange) text(s string) string { return redact.String(s, ex.sensitive...) }

// Trace records a probe for `credmon explain`. Every secret is redacted.
type Trace struct {
	Method          string                `json:"method"`
	URL             string                `json:"url"` // userinfo and sensitive query values masked
	RequestHeaders  http.Header           `json:"request_headers"`
	Status          string                `json:"status,omitempty"`
	Proto           string                `json:"proto,omitempty"`  // HTTP/1.1, HTTP/2.0
	Reused          bool                  `json:"reused,omitempty"` // the request went over a kept-alive connection
	ResponseHeaders http.Header           `json:"response_headers,omitempty"`
	Body            string                `json:"body,omitempty"` // excerpt
	Challenges      []challenge.Challenge `json:"challenges,omitempty"`
	Retried         bool                  `json:"retried,omitempty"` // a fresh token was fetched and the request retried
	// TokenClaims describes the JWT sent, decoded and not trusted: the
	// claims only, never the token.
	TokenClaims string `json:"token_claims,omitempty"`
}

// Run probes the check once. tick is the scheduled time (or now).
func (c *Check) Run(ctx context.Context, tick time.Time) Result {
	return c.run(ctx, tick, nil)
}

// Explain probes the check once and records the exchange.
func (c *Check) Explain(ctx context.Context) (Result, *Trace) {
	tr := &Trace{}
	r := c.run(ctx, c.deps.Now(), tr)
	return r, tr
}

// probeRun is what one run learns as it goes: the sensitive sets of the
// check, its request and its credential.
type probeRun struct {
	sensitive []*redact.Set
	tr        *Trace
	// For `explain -compare`: another client than the check's, and the
	// credential in another form than configured.
	client *http.Client
	form   func(*Authorization) *Authorization
	// What the last exchange went over.
	proto  string
	reused bool
	// auth is what the credential presented, when it could.
	auth *Authorization
}

func (p *probeRun) add(s *redact.Set) {
	if !s.Empty() {
		p.sensitive = append(p.sensitive, s)
	}
}

func (c *Check) run(ctx context.Context, tick time.Time, tr *Trace) Result {
	return c.runWith(ctx, tick, &probeRun{tr: tr})
}

func (c *Check) runWith(ctx context.Context, tick time.Time, p *probeRun) Result {
	tr := p.tr
	p.add(c.sensitive)
	res := c.probe(ctx, tick, p)
	// Seen before sending, so also on a result that never got an answer;
	// an answer that confirmed it made it the cause instead.
	if f := schemeFinding(p.auth); f != nil && res.Cause != CauseMalformedCredential {
		res.AddFinding(*f)
	}
	c.crossEnvironment(&res, p.auth)
	// Ingest already redacted what the server said; this pass covers what
	// was built from it, and anything a new output path forgets.
	res.redact(p.sensitive...)
	if tr != nil {
		tr.redact(p.sensitive...)
	}
	return res
}

func (c *Check) probe(ctx context.Context, tick time.Time, p *probeRun) Result {
	start := c.deps.Now()
	res := Result{Env: c.Env, Check: c.Name, Credential: c.Cfg.Credential, Tick: tick, Started: start}
	timeout := c.Cfg.Timeout.D()
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var auth *Authorization
	if c.Cred != nil {
		a, err := c.Cred.Authorize(ctx)
		if err != nil {
			p.add(c.Cred.Sensitive())
			return res.failed(err)
		}
		auth = a
		if p.form != nil {
			auth = p.form(a)
		}
		p.auth = auth
		p.add(a.Sensitive)
		res.Identity = a.Identity
		c.describeToken(p, a)
		if f := c.guard(auth, &res); f != nil {
			return res.failed(f)
		}
	}
	ex, err := c.exchange(ctx, auth, p)
	if err != nil {
		res.Latency = c.deps.Now().Sub(start)
		return res.failed(unreachable(err, c.Cfg.URL, timeout, p.sensitive...))
	}
	c.diagnose(&res, ex, auth, p.tr)

	// A rejected token may just be stale: fetch a fresh one and retry once.
	// Not when the API cannot parse it: the next token is as opaque.
	if rf, ok := c.Cred.(Refresher); ok && ex.status == http.StatusUnauthorized && !auth.Fetched && !c.opaqueWhereJWT(auth, res.Challenge, ex) {
		if err := rf.Invalidate(ctx, auth); err == nil {
			a2, err := rf.Authorize(ctx)
			if err != nil {
				p.add(c.Cred.Sensitive())
				return res.failed(err)
			}
			p.add(a2.Sensitive)
			if p.form != nil {
				a2 = p.form(a2)
			}
			if ex2, err := c.exchange(ctx, a2, p); err == nil {
				if p.tr != nil {
					p.tr.Retried = true
					c.describeToken(p, a2)
				}
				retry := Result{Env: res.Env, Check: res.Check, Credential: res.Credential, Tick: tick, Started: start, Identity: a2.Identity}
				c.guard(a2, &retry)
				c.diagnose(&retry, ex2, a2, p.tr)
				if ex2.status == http.StatusUnauthorized && staleNotDead(retry.Cause) && !receivedNothing(retry.Challenge, ex2) {
					retry.SetCause(CauseRevoked,
						"The API rejected the token, and a freshly issued one too: the credential itself has been revoked or disabled"+challengeSuffix(retry.Challenge),
						"Re-enable the client or issue a new credential at the provider, then update the secret; token refresh cannot fix this.")
				}
				res = retry
			}
		}
	}
	res.Latency = c.deps.Now().Sub(start)
	return res
}

// staleNotDead are the causes of a 401 that a fresh token would cure if
// only the old one were stale; refused again, the credential is revoked.
// The others (a token that never arrived, one the API cannot parse, a
// scheme it does not take) say something else than revocation.
func staleNotDead(c Cause) bool {
	return c == CauseUnauthorized || c == CauseInvalidToken || c == CauseRevoked
}

// describeToken records the claims of the JWT sent, for explain.
func (c *Check) describeToken(p *probeRun, a *Authorization) {
	if p.tr == nil || !jwt.LooksLikeJWT(a.Token) {
		return
	}
	if tok, err := jwt.Decode(a.Token); err == nil {
		p.tr.TokenClaims = tok.Describe(c.deps.Now())
	}
}

// failed fills the result from an error: a *Failure keeps its cause.
func (r Result) failed(err error) Result {
	var f *Failure
	if !errors.As(err, &f) {
		f = &Failure{Cause: CauseUnexpectedStatus, Detail: err.Error()}
	}
	r.SetCause(f.Cause, f.Detail, f.Hint)
	if f.Token != nil {
		r.Token = f.Token
	}
	return r
}

// request builds the HTTP request: the check's url, query, headers and
// body, secret references resolved now.
func (c *Check) request(ctx context.Context, auth *Authorization, p *probeRun) (*http.Request, error) {
	var secrets []string
	resolve := func(field string, v config.Param) (string, error) {
		text, err := v.Resolve()
		if err != nil || (v.IsSecret() && text == "") {
			return "", &Failure{Cause: CauseMissingCredential,
				Detail: fmt.Sprintf("the check's %s (%s) could not be read", field, v.Secret.Describe()),
				Hint:   secretSourceHint(v.Secret, err)}
		}
		if v.IsSecret() {
			secrets = append(secrets, text)
		}
		return text, nil
	}
	var body io.Reader
	if c.Cfg.Body.IsSet() {
		text, err := resolve("body", c.Cfg.Body)
		if err != nil {
			return nil, err
		}
		body = strings.NewReader(text)
	}
	rawURL := c.Cfg.URL
	if len(c.Cfg.Query) > 0 {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		for _, k := range slices.Sorted(maps.Keys(c.Cfg.Query)) {
			text, err := resolve("query parameter "+k, c.Cfg.Query[k])
			if err != nil {
				return nil, err
			}
			q.Set(k, text)
		}
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	method := c.Cfg.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range c.Cfg.Headers {
		text, err := resolve("header "+k, v)
		if err != nil {
			return nil, err
		}
		req.Header.Set(k, text)
	}
	if len(secrets) > 0 {
		p.add(c.params.of(secrets...))
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "credmon")
	}
	if auth != nil || c.carriesSecret {
		insecure := c.Cfg.AllowInsecure || (c.Cred != nil && c.Cred.Config().AllowInsecure)
		if req.URL.Scheme != "https" && !config.IsLoopback(req.URL.Hostname()) && !insecure {
			return nil, &Failure{Cause: CauseUnexpectedStatus,
				Detail: "refused to send the check's secrets over plain http:// to " + req.URL.Host,
				Hint:   "Use https, or set allow_insecure: true on the check if this network is trusted."}
		}
	}
	if auth != nil {
		req.Header.Set(auth.Header, auth.Value)
	}
	return req, nil
}

func (c *Check) exchange(ctx context.Context, auth *Authorization, p *probeRun) (*exchange, error) {
	req, err := c.request(ctx, auth, p)
	if err != nil {
		return nil, err
	}
	tr := p.tr
	if tr != nil {
		tr.Method, tr.URL = req.Method, redact.URL(req.URL.String(), p.sensitive...)
		tr.RequestHeaders = c.shownRequestHeaders(req.Header, auth, p.sensitive)
	}
	client := c.client
	if p.client != nil {
		client = p.client
	}
	p.reused = false
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { p.reused = info.Reused },
	}))
	sent := c.deps.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p.proto = resp.Proto
	ex := &exchange{status: resp.StatusCode, header: resp.Header, sent: sent, sensitive: p.sensitive}
	ex.body, err = io.ReadAll(io.LimitReader(resp.Body, c.deps.MaxBody+1))
	if int64(len(ex.body)) > c.deps.MaxBody {
		ex.body, ex.truncated = ex.body[:c.deps.MaxBody], true
	} else if err == nil {
		// Drain a little more so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	}
	ex.latency = c.deps.Now().Sub(sent)
	if tr != nil {
		// The reason phrase is the server's text, as the body is.
		tr.Status, tr.Proto, tr.Reused = clip(ex.text(resp.Status), maxStatusLine), resp.Proto, p.reused
		tr.ResponseHeaders = shownHeaders(resp.Header, p.sensitive)
		// Redacted whole, then cut: a secret across the cut is still found.
		tr.Body = clip(ex.text(string(ex.body)), 2048)
	}
	return ex, nil
}

// maxStatusLine bounds the status line a trace keeps: the client reads a
// reason phrase of up to MaxResponseHeaderBytes.
const maxStatusLine = 160

func (c *Check) checkRedirect(req *http.Request, via []*http.Request) error {
	if !c.Cfg.FollowRedirects || len(via) >= 10 {
		return http.ErrUseLastResponse
	}
	orig := via[0].URL
	if req.URL.Host != orig.Host || (orig.Scheme == "https" && req.URL.Scheme != "https") {
		// Never forward a credential to another host or over a downgrade:
		// stop here and report the redirect.
		return http.ErrUseLastResponse
	}
	return nil
}

// unreachable explains a transport error. Its text is redacted with
// sensitive: an error may quote what was sent or received.
func unreachable(err error, rawURL string, timeout time.Duration, sensitive ...*redact.Set) error {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	host := redact.URL(rawURL, sensitive...)
	if u, perr := url.Parse(rawURL); perr == nil {
		host = redact.String(u.Host, sensitive...)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry a key in its query: leave it out
	}
	msg := redact.String(err.Error(), sensitive...)
	f = &Failure{Cause: CauseUnreachable}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		f.Detail = fmt.Sprintf("%s did not answer within %s", host, timeout)
		f.Hint = "Check that the API is up and reachable from where credmon runs (firewall, proxy_url), or raise the check's timeout."
	case errors.As(err, &dnsErr):
		f.Detail = fmt.Sprintf("DNS lookup for %s failed: %s", redact.String(dnsErr.Name, sensitive...), redact.String(dnsErr.Err, sensitive...))
		f.Hint = "Check the hostname in the check's url and the resolver credmon uses."
	case isTLSError(err):
		f.Detail = fmt.Sprintf("TLS handshake with %s failed: %s", host, msg)
		f.Hint = "Check the server certificate (expired? wrong name? private CA → set tls.ca_file) and, for mTLS, tls.cert_file/key_file."
	case errors.As(err, &opErr) && opErr.Op == "dial":
		f.Detail = fmt.Sprintf("could not connect to %s: %s", host, msg)
		f.Hint = "Nothing is listening there, or a firewall refuses the connection: check the url's host and port."
	default:
		f.Detail = fmt.Sprintf("request to %s failed: %s", host, msg)
		f.Hint = "Check network reachability and the check's url."
	}
	return f
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTLSError reports a failed handshake or certificate check, by the
// typed errors crypto/tls and crypto/x509 return.
func isTLSError(err error) bool {
	var (
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	if errors.As(err, &recordErr) || errors.As(err, &alertErr) || errors.As(err, &certErr) ||
		errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) {
		return true
	}
	// crypto/tls reports some handshake failures (no shared version or
	// cipher suite) as untyped errors; they all start with "tls: ".
	return strings.HasPrefix(err.Error(), "tls: ") || strings.Contains(err.Error(), ": tls: ")
}

// shownRequestHeaders is the request as explain shows it: the credential
// as its fingerprint, secret-referenced headers masked, the rest redacted.
func (c *Check) shownRequestHeaders(h http.Header, auth *Authorization, sensitive []*redact.Set) http.Header {
	out := shownHeaders(h, sensitive)
	for k, v := range c.Cfg.Headers {
		if v.IsSecret() {
			out.Set(k, redact.Mask)
		}
	}
	if auth != nil {
		out.Set(auth.Header, auth.redacted())
	}
	return out
}

// shownHeaders copies headers for display: cookies masked, every value
// redacted with sensitive.
func shownHeaders(h http.Header, sensitive []*redact.Set) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if strings.EqualFold(k, "Set-Cookie") || strings.EqualFold(k, "Cookie") {
			out[k] = slices.Repeat([]string{redact.Mask}, len(vs))
		} else {
			out[k] = slices.Clone(vs)
		}
	}
	redactHeader(out, sensitive)
	return out
}

// redactHeader redacts h's names and values in place. A name may hold an
// echoed secret (canonicalised by the client); its values are masked with
// it, and names that redact alike are one.
func redactHeader(h http.Header, sensitive []*redact.Set) {
	for k, vs := range h {
		name := redact.String(k, sensitive...)
		if name == k {
			redact.Strings(vs, sensitive...)
			continue
		}
		delete(h, k)
		h[name] = append(h[name], slices.Repeat([]string{redact.Mask}, len(vs))...)
	}
}

// redact scrubs secrets from everything a result shows. Server text was
// redacted when it was parsed; this pass also covers text credmon built
// around it, and token claims (an endpoint may issue a token whose claims
// quote the grant).
func (r *Result) redact(sensitive ...*redact.Set) {
	if len(sensitive) == 0 {
		return
	}
	str := func(s string) string { return redact.String(s, sensitive...) }
	r.Detail, r.Hint = str(r.Detail), str(r.Hint)
	for i := range r.Findings {
		r.Findings[i].Detail = str(r.Findings[i].Detail)
		r.Findings[i].Hint = str(r.Findings[i].Hint)
	}
	if r.Challenge != nil {
		redactChallenge(r.Challenge, sensitive)
	}
	if t := r.Token; t != nil {
		// Shared with the check's decoded-token cache: copy on change.
		c := *t
		c.Issuer, c.Subject, c.Scope = str(t.Issuer), str(t.Subject), str(t.Scope)
		c.Audience = slices.Clone(t.Audience)
		redact.Strings(c.Audience, sensitive...)
		if c.Issuer != t.Issuer || c.Subject != t.Subject || c.Scope != t.Scope || !slices.Equal(c.Audience, t.Audience) {
			r.Token = &c
		}
	}
}

// redactChallenge redacts a parsed challenge in place.
func redactChallenge(ch *challenge.Challenge, sensitive []*redact.Set) {
	str := func(s string) string { return redact.String(s, sensitive...) }
	ch.Scheme, ch.Realm, ch.Error, ch.Scope = str(ch.Scheme), str(ch.Realm), str(ch.Error), str(ch.Scope)
	ch.ErrorDescription, ch.Token68 = str(ch.ErrorDescription), str(ch.Token68)
	// Names too: a server may echo a secret as one, and the parser has
	// lowercased it.
	params := make(map[string]string, len(ch.Params))
	for k, v := range ch.Params {
		params[str(k)] = str(v)
	}
	ch.Params = params
}

func (t *Trace) redact(sensitive ...*redact.Set) {
	t.URL = redact.URL(t.URL, sensitive...)
	t.Status = redact.String(t.Status, sensitive...)
	t.Body = redact.String(t.Body, sensitive...)
	t.TokenClaims = redact.String(t.TokenClaims, sensitive...)
	for i := range t.Challenges {
		redactChallenge(&t.Challenges[i], sensitive)
	}
	redactHeader(t.RequestHeaders, sensitive)
	redactHeader(t.ResponseHeaders, sensitive)
}

// redacted is the header value as it may be shown: the scheme and the
// key's fingerprint ("Bearer sk_live_…a1b2").
func (a *Authorization) redacted() string {
	if scheme := schemeOf(a); scheme != "" {
		return scheme + " " + Fingerprint(a.Token)
	}
	if strings.HasPrefix(a.Value, "Basic ") {
		return "Basic <redacted>"
	}
	return Fingerprint(a.Token)
}
