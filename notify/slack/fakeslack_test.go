package slack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Fake secrets: they look fake on purpose, and the leak test greps for them.
const (
	fakeToken       = "xoxb-FAKE-0000"
	fakeWebhookPath = "/services/TFAKE/BFAKE/FAKEsecret"

	// Long ones, as real secrets are, so that a secret cut short by a
	// server or a body limit still leaves a 12-character run to catch.
	// The webhook's secret part is lowercase: shaped like a Slack error code.
	longToken       = "xoxb-FAKE-000000000000-111111111111-FAKEfakeFAKEfakeFAKE"
	longHookSecret  = "fakesecretfakesecretfake"
	longWebhookPath = "/services/TFAKE00000/BFAKE00000/" + longHookSecret
)

// request is what the fake Slack received.
type request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
	Form   url.Values     // Web API calls
	JSON   map[string]any // webhook calls
}

// reply is a canned answer that replaces the next normal one on a path.
type reply struct {
	status int
	header map[string]string
	body   string
}

// fakeSlack is a local Slack: the Web API under /api/ and webhooks under
// /services/. It checks what real Slack checks (the bot token, the
// channel, the blocks) and answers the way Slack does.
type fakeSlack struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	reqs     []request
	replies  map[string][]reply
	hooks    map[string]bool
	ts       int
	channels map[string]bool // channels the bot can post to; nil = all
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, replies: map[string][]reply{}, hooks: map[string]bool{fakeWebhookPath: true}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) apiURL() string     { return f.srv.URL + "/api/" }
func (f *fakeSlack) webhookURL() string { return f.srv.URL + fakeWebhookPath }

// addHook registers another webhook path and returns its URL.
func (f *fakeSlack) addHook(path string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks[path] = true
	return f.srv.URL + path
}

// queue makes the next request to path get r instead of the normal answer.
func (f *fakeSlack) queue(path string, r reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[path] = append(f.replies[path], r)
}

func (f *fakeSlack) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// calls returns the requests to one path (e.g. /api/chat.postMessage).
func (f *fakeSlack) calls(path string) []request {
	var out []request
	for _, r := range f.requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(raw)}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		req.Form, _ = url.ParseQuery(string(raw))
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &req.JSON)
	}

	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	var canned *reply
	if q := f.replies[r.URL.Path]; len(q) > 0 {
		canned, f.replies[r.URL.Path] = &q[0], q[1:]
	}
	isHook := f.hooks[r.URL.Path]
	f.mu.Unlock()

	if canned != nil {
		for k, v := range canned.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(canned.status)
		_, _ = io.WriteString(w, canned.body)
		return
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/services/"):
		f.serveWebhook(w, req, isHook)
	case r.URL.Path == "/api/chat.postMessage" || r.URL.Path == "/api/chat.update":
		f.serveAPI(w, req)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"ok":false,"error":"unknown_method"}`)
	}
}

func (f *fakeSlack) serveWebhook(w http.ResponseWriter, req request, known bool) {
	switch {
	case !known:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "no_service")
	case req.Method != http.MethodPost || req.JSON == nil:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "invalid_payload")
	case req.JSON["text"] == "" || req.JSON["text"] == nil:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "no_text")
	default:
		_, _ = io.WriteString(w, "ok")
	}
}

func (f *fakeSlack) serveAPI(w http.ResponseWriter, req request) {
	w.Header().Set("Content-Type", "application/json")
	fail := func(code string) { _, _ = fmt.Fprintf(w, `{"ok":false,"error":%q}`, code) }
	if req.Header.Get("Authorization") != "Bearer "+fakeToken {
		fail("invalid_auth")
		return
	}
	ch := req.Form.Get("channel")
	f.mu.Lock()
	known := f.channels == nil || f.channels[ch]
	f.mu.Unlock()
	switch {
	case ch == "":
		fail("channel_not_found")
		return
	case !known:
		fail("channel_not_found")
		return
	case req.Form.Get("text") == "":
		fail("no_text")
		return
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(req.Form.Get("blocks")), &blocks); err != nil || len(blocks) == 0 {
		fail("invalid_blocks")
		return
	}
	if req.Path == "/api/chat.update" {
		if req.Form.Get("ts") == "" {
			fail("message_not_found")
			return
		}
		_, _ = fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":"x"}`, ch, req.Form.Get("ts"))
		return
	}
	f.mu.Lock()
	f.ts++
	ts := fmt.Sprintf("1700000000.%06d", f.ts)
	f.mu.Unlock()
	// Slack answers with the channel's ID, not the name that was posted to.
	_, _ = fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q}`, channelID(ch), ts)
}

// channelID is the fake's ID for a channel name, as Slack returns it.
func channelID(name string) string {
	if strings.HasPrefix(name, "C") {
		return name
	}
	return "C" + strings.ToUpper(strings.NewReplacer("#", "", "-", "").Replace(name))
}

// sink is a second server, on another port, that a redirect points at. It
// records whatever reaches it and answers as Slack does on success, so a
// followed redirect would deliver.
type sink struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(raw)})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"CSINK","ts":"1700000000.000001"}`)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}
