package slack

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// bearerTransport sends the bot token only in the Authorization header.
// slack-go puts it into the form body of chat.postMessage and chat.update,
// where gateways, proxies and debug dumps log it; Slack accepts both.
type bearerTransport struct {
	base  http.RoundTripper
	token string
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
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// maxErrorBody bounds what is read of a failed webhook response: Slack
// answers with a short code such as no_service.
const maxErrorBody = 256

// bodyRecorder keeps the start of a failed webhook response, which slack-go
// discards, so the error can say invalid_token rather than just 403.
type bodyRecorder struct {
	base http.RoundTripper
	body string
}

func (t *bodyRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode == http.StatusOK {
		return resp, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	t.body = string(b)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return resp, nil
}
