package slack

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// bearerTransport sends the bot token only in the Authorization header,
// and only to api_url's scheme and host. slack-go puts it into the form
// body of chat.postMessage and chat.update, where gateways, proxies and
// debug dumps log it; Slack accepts both. A request anywhere else (a
// redirect, were one ever followed) goes without it.
type bearerTransport struct {
	base   http.RoundTripper
	token  string
	scheme string // api_url's
	host   string // api_url's, with its port
}

func newBearerTransport(base http.RoundTripper, token string, api *url.URL) *bearerTransport {
	return &bearerTransport{base: base, token: token, scheme: api.Scheme, host: hostPort(api)}
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the caller's request.
	r := req.Clone(req.Context())
	if r.Body != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		raw, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, err
		}
		vals.Del("token")
		body := vals.Encode()
		r.Body = io.NopCloser(strings.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	if q := r.URL.Query(); q.Has("token") {
		q.Del("token")
		r.URL.RawQuery = q.Encode()
	}
	// slack-go sets the header itself on some calls.
	r.Header.Del("Authorization")
	if r.URL.Scheme == t.scheme && strings.EqualFold(hostPort(r.URL), t.host) {
		r.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.base.RoundTrip(r)
}

// hostPort is u's host with the scheme's default port made explicit, so
// slack.com and slack.com:443 are one host.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// noRedirects turns every 3xx into an error, whatever the client's
// CheckRedirect says: the webhook URL is the secret and the API request
// carries the token, so a redirect would hand either to whoever Slack (or
// a gateway in front of it) points at.
type noRedirects struct{ base http.RoundTripper }

func (t noRedirects) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
		return resp, err
	}
	_ = resp.Body.Close()
	return nil, &redirectError{Status: resp.StatusCode, Host: locationHost(req.URL, resp.Header.Get("Location"))}
}

// redirectError is a 3xx that was not followed. It names only the host of
// the Location: its path or query may be another webhook, or ours.
type redirectError struct {
	Status int
	Host   string
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("redirect (HTTP %d) to %s not followed", e.Status, e.Host)
}

func locationHost(base *url.URL, loc string) string {
	if loc == "" {
		return "nowhere (no Location)"
	}
	u, err := base.Parse(loc)
	if err != nil || u.Host == "" {
		return "an unparsable Location"
	}
	return u.Host
}

// maxErrorBody bounds what is kept of a failed webhook response: Slack
// answers with a short code such as no_service. readErrorBody is how much
// is read first, so a secret the server echoed is redacted whole before
// the cut to maxErrorBody.
const (
	maxErrorBody  = 256
	readErrorBody = 4096
)

// bodyRecorder keeps the start of a failed webhook response, which slack-go
// discards, so the error can say invalid_token rather than just 403. The
// body is redacted against secrets as it is read; slack-go is handed only
// the redacted text.
type bodyRecorder struct {
	base    http.RoundTripper
	secrets []string
	body    string
}

func (t *bodyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode == http.StatusOK {
		return resp, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, readErrorBody))
	text := redactSecrets(string(b), t.secrets)
	if len(text) > maxErrorBody {
		text = strings.ToValidUTF8(text[:maxErrorBody], "")
	}
	t.body = text
	resp.Body = struct {
		io.Reader
		io.Closer
	}{strings.NewReader(text), resp.Body}
	resp.ContentLength = int64(len(text))
	resp.Header.Del("Content-Length")
	return resp, nil
}
