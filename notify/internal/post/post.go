// Package post sends a notifier's JSON request the way every credmon
// notifier must: no redirect followed, the answer read with a limit and
// redacted before it is kept, and a retry decision with Retry-After.
package post

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/credmon/credmon/checks/redact"
)

// What is kept of an error answer: the first readBody bytes are read so a
// secret the server echoed is redacted whole, then the text is cut.
const (
	readBody = 4096
	keepBody = 256
)

// DefaultTimeout bounds a request when the caller's client has none.
const DefaultTimeout = 10 * time.Second

// Client builds the HTTP client of a notifier from base (nil: a default
// one): the same transport and timeout, and never a redirect followed,
// whatever base says. The request may carry a secret (a routing key, a
// signature over a body that names an incident), and a redirect hands it
// to whoever the server points at.
func Client(base *http.Client) *http.Client {
	c := &http.Client{Timeout: DefaultTimeout}
	if base != nil {
		c.Transport, c.Timeout, c.Jar = base.Transport, base.Timeout, base.Jar
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// Endpoint parses a notifier's URL: absolute http(s), with a host and
// without credentials (they would be logged with it). The error does not
// echo the URL.
func Endpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, errors.New("not an http(s) URL without credentials")
	}
	return u, nil
}

// Error is a failed request. Its text names the endpoint as target (which
// the caller chooses: never a secret) and holds the server's answer only
// after redaction.
type Error struct {
	Target    string
	Status    int           // HTTP status; 0 for a network failure
	Body      string        // the start of the answer, redacted
	After     time.Duration // Retry-After of a 429 or 503, when given
	Retryable bool
	msg       string
	ctxErr    error
}

func (e *Error) Error() string { return e.msg }

// Unwrap exposes only a context error: the transport error underneath may
// carry the request URL.
func (e *Error) Unwrap() error { return e.ctxErr }

// RetryAfter implements notify.RetryAfter.
func (e *Error) RetryAfter() time.Duration { return e.After }

// Request is one JSON POST.
type Request struct {
	URL     string
	Target  string // how errors name the endpoint, e.g. "alertmanager http://am:9093"
	Body    []byte
	Header  http.Header
	Secrets *redact.Set // redacted from whatever the server says
}

// Send posts r and returns nil for a 2xx answer, or an *Error. retry says
// whether a later attempt can help: network errors, timeouts, 408, 429 and
// 5xx can; another 4xx or a redirect needs a person.
func Send(ctx context.Context, c *http.Client, r Request) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return false, &Error{Target: r.Target, msg: r.Target + ": cannot build request"}
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		e := &Error{Target: r.Target, Retryable: true}
		if ctx.Err() != nil {
			e.ctxErr = ctx.Err()
			e.msg = fmt.Sprintf("%s: %v", r.Target, ctx.Err())
			return true, e
		}
		// A url.Error prints the request URL: keep only what is under it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		e.msg = fmt.Sprintf("%s: %s", r.Target, r.Secrets.String(err.Error()))
		return true, e
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, readBody))
	// Drained so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	e := &Error{Target: r.Target, Status: resp.StatusCode, Body: redact.Excerpt(string(raw), keepBody, r.Secrets)}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		e.msg = fmt.Sprintf("%s: HTTP %d redirect to %s not followed (the request carries a secret); fix the URL",
			r.Target, resp.StatusCode, locationHost(req.URL, resp.Header.Get("Location"), r.Secrets))
		return false, e
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		e.After = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		e.Retryable = true
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		e.Retryable = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", r.Target, resp.StatusCode)
	if e.After > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.After)
	}
	if e.Body != "" {
		fmt.Fprintf(&b, ": %s", strings.Join(strings.Fields(e.Body), " "))
	}
	e.msg = b.String()
	return e.Retryable, e
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (RFC 9110 §10.2.3). Zero when absent, unparsable or in the past.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// A day is more than any server means; a larger number is hostile.
		return time.Duration(min(secs, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// locationHost names only the host of a redirect's target: its path or
// query may hold a token.
func locationHost(base *url.URL, loc string, secrets *redact.Set) string {
	if loc == "" {
		return "nowhere (no Location)"
	}
	u, err := base.Parse(loc)
	if err != nil || u.Host == "" {
		return "an unparsable Location"
	}
	return secrets.String(u.Host)
}
