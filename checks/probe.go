package checks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/credmon/credmon/checks/challenge"
)

// exchange is one HTTP request and its (bounded) response.
type exchange struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
	latency   time.Duration
	sent      time.Time
}

// Trace records a probe for `credmon explain`. Every secret is redacted.
type Trace struct {
	Method          string                `json:"method"`
	URL             string                `json:"url"`
	RequestHeaders  http.Header           `json:"request_headers"`
	Status          string                `json:"status,omitempty"`
	ResponseHeaders http.Header           `json:"response_headers,omitempty"`
	Body            string                `json:"body,omitempty"` // excerpt
	Challenges      []challenge.Challenge `json:"challenges,omitempty"`
	Retried         bool                  `json:"retried,omitempty"` // a fresh token was fetched and the request retried
	Token           string                `json:"-"`                 // the raw token, kept only to decode claims for display
}

// Run probes the check once. tick is the scheduled time (or now).
func (c *Check) Run(ctx context.Context, tick time.Time) Result {
	r, _ := c.run(ctx, tick, nil)
	return r
}

// Explain probes the check once and records the exchange.
func (c *Check) Explain(ctx context.Context) (Result, *Trace) {
	tr := &Trace{}
	r, _ := c.run(ctx, c.deps.Now(), tr)
	return r, tr
}

func (c *Check) run(ctx context.Context, tick time.Time, tr *Trace) (Result, error) {
	var sent []string // every credential presented, to scrub from what servers say back
	res, err := c.probe(ctx, tick, tr, &sent)
	res.redact(sent...)
	if tr != nil {
		tr.redact(sent...)
	}
	return res, err
}

func (c *Check) probe(ctx context.Context, tick time.Time, tr *Trace, sent *[]string) (Result, error) {
	start := c.deps.Now()
	res := Result{Env: c.Env, Check: c.Name, Credential: c.Cfg.Credential, Tick: tick, Started: start}
	timeout := c.Cfg.Timeout.D()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var auth *Authorization
	if c.Cred != nil {
		a, err := c.Cred.Authorize(ctx)
		if err != nil {
			return res.failed(err), err
		}
		auth = a
		*sent = append(*sent, a.Value, a.Token)
		res.Identity = a.Identity
		if tr != nil {
			tr.Token = a.Token
		}
		if f := c.guard(auth, &res); f != nil {
			return res.failed(f), f
		}
	}
	ex, err := c.exchange(ctx, auth, tr)
	if err != nil {
		res.Latency = c.deps.Now().Sub(start)
		return res.failed(unreachable(err, c.Cfg.URL, timeout, auth)), err
	}
	c.diagnose(&res, ex, auth, tr)

	// A rejected token may just be stale: fetch a fresh one and retry once.
	if rf, ok := c.Cred.(Refresher); ok && ex.status == http.StatusUnauthorized && !auth.Fetched {
		if err := rf.Invalidate(ctx, auth); err == nil {
			if a2, err := rf.Authorize(ctx); err != nil {
				return res.failed(err), err
			} else if ex2, err := c.exchange(ctx, a2, tr); err == nil {
				*sent = append(*sent, a2.Value, a2.Token)
				if tr != nil {
					tr.Retried = true
					tr.Token = a2.Token
				}
				retry := Result{Env: res.Env, Check: res.Check, Credential: res.Credential, Tick: tick, Started: start, Identity: a2.Identity}
				c.guard(a2, &retry)
				c.diagnose(&retry, ex2, a2, tr)
				if ex2.status == http.StatusUnauthorized {
					retry.setCause(CauseRevoked,
						"The API rejected the token, and a freshly issued one too: the credential itself has been revoked or disabled"+challengeSuffix(retry.Challenge),
						"Re-enable the client or issue a new credential at the provider, then update the secret; token refresh cannot fix this.")
				}
				res = retry
			}
		}
	}
	res.Latency = c.deps.Now().Sub(start)
	return res, nil
}

// failed fills the result from an error: a *Failure keeps its cause.
func (r Result) failed(err error) Result {
	var f *Failure
	if !errors.As(err, &f) {
		f = &Failure{Cause: CauseUnexpectedStatus, Detail: err.Error()}
	}
	r.setCause(f.Cause, f.Detail, f.Hint)
	if f.Token != nil {
		r.Token = f.Token
	}
	return r
}

func (r *Result) setCause(c Cause, detail, hint string) {
	r.Cause, r.Status, r.Detail, r.Hint = c, c.Status(), detail, hint
}

func (c *Check) exchange(ctx context.Context, auth *Authorization, tr *Trace) (*exchange, error) {
	method := c.Cfg.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if c.Cfg.Body != "" {
		body = strings.NewReader(c.Cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Cfg.URL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range c.Cfg.Headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "credmon")
	}
	if auth != nil {
		if req.URL.Scheme != "https" && !IsLoopback(req.URL.Hostname()) && !c.Cfg.AllowInsecure && !c.Cred.Config().AllowInsecure {
			return nil, &Failure{Cause: CauseUnexpectedStatus,
				Detail: "refused to send the credential over plain http:// to " + req.URL.Host,
				Hint:   "Use https, or set allow_insecure: true on the check if this network is trusted."}
		}
		req.Header.Set(auth.Header, auth.Value)
	}
	if tr != nil {
		tr.Method, tr.URL = method, c.Cfg.URL
		tr.RequestHeaders = redactHeaders(req.Header, auth)
	}
	sent := c.deps.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ex := &exchange{status: resp.StatusCode, header: resp.Header, sent: sent}
	ex.body, err = io.ReadAll(io.LimitReader(resp.Body, c.deps.MaxBody+1))
	if int64(len(ex.body)) > c.deps.MaxBody {
		ex.body, ex.truncated = ex.body[:c.deps.MaxBody], true
	} else if err == nil {
		// Drain a little more so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	}
	ex.latency = c.deps.Now().Sub(sent)
	if tr != nil {
		tr.Status = resp.Status
		tr.ResponseHeaders = redactHeaders(resp.Header, auth)
		excerpt := ex.body
		if len(excerpt) > 2048 {
			excerpt = excerpt[:2048]
		}
		tr.Body = redactAuth(string(excerpt), auth)
	}
	return ex, nil
}

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

// unreachable explains a transport error.
func unreachable(err error, rawURL string, timeout time.Duration, auth *Authorization) error {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	host := rawURL
	if u, perr := url.Parse(rawURL); perr == nil {
		host = u.Host
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry a key in its query: leave it out
	}
	msg := err.Error()
	if auth != nil {
		msg = redactAuth(msg, auth)
	}
	f = &Failure{Cause: CauseUnreachable}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		f.Detail = fmt.Sprintf("%s did not answer within %s", host, timeout)
		f.Hint = "Check that the API is up and reachable from where credmon runs (firewall, proxy_url), or raise the check's timeout."
	case errors.As(err, &dnsErr):
		f.Detail = fmt.Sprintf("DNS lookup for %s failed: %s", dnsErr.Name, dnsErr.Err)
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

func isTLSError(err error) bool {
	s := err.Error()
	return strings.Contains(s, "tls:") || strings.Contains(s, "x509:") || strings.Contains(s, "certificate")
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func redactHeaders(h http.Header, auth *Authorization) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			switch {
			case auth != nil && strings.EqualFold(k, auth.Header):
				v = auth.redacted()
			case strings.EqualFold(k, "Set-Cookie") || strings.EqualFold(k, "Cookie"):
				v = "<redacted>"
			default:
				v = redactAuth(v, auth)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

func redactAuth(s string, auth *Authorization) string {
	if auth == nil {
		return s
	}
	return Redact(s, auth.Value, auth.Token)
}

// redact scrubs credentials from everything a server's answer can put into
// a result: a careless API may echo the Authorization header in its
// challenge or body.
func (r *Result) redact(secrets ...string) {
	if len(secrets) == 0 {
		return
	}
	r.Detail, r.Hint = Redact(r.Detail, secrets...), Redact(r.Hint, secrets...)
	for i := range r.Findings {
		r.Findings[i].Detail = Redact(r.Findings[i].Detail, secrets...)
		r.Findings[i].Hint = Redact(r.Findings[i].Hint, secrets...)
	}
	if ch := r.Challenge; ch != nil {
		ch.Realm, ch.Error, ch.Scope = Redact(ch.Realm, secrets...), Redact(ch.Error, secrets...), Redact(ch.Scope, secrets...)
		ch.ErrorDescription, ch.Token68 = Redact(ch.ErrorDescription, secrets...), Redact(ch.Token68, secrets...)
		for k, v := range ch.Params {
			ch.Params[k] = Redact(v, secrets...)
		}
	}
}

func (t *Trace) redact(secrets ...string) {
	t.Body = Redact(t.Body, secrets...)
	for i := range t.Challenges {
		ch := &t.Challenges[i]
		ch.Realm, ch.ErrorDescription, ch.Token68 = Redact(ch.Realm, secrets...), Redact(ch.ErrorDescription, secrets...), Redact(ch.Token68, secrets...)
		for k, v := range ch.Params {
			ch.Params[k] = Redact(v, secrets...)
		}
	}
	for k, vs := range t.ResponseHeaders {
		for i, v := range vs {
			t.ResponseHeaders[k][i] = Redact(v, secrets...)
		}
	}
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
