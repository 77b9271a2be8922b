package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakePD checks every request as the Events API v2 documents it
// (developer.pagerduty.com, "Send an Alert Event"): JSON only, the known
// fields only, a 32-character routing key that must be ours, the
// event_action enum, a dedup_key of at most 255 characters (required to
// resolve), and for a trigger a payload with summary (≤1024), source and
// a severity from its enum. It answers 202 as PagerDuty does, keeps the
// alerts by dedup_key, or answers 400 with PagerDuty's error shape.
type fakePD struct {
	t   *testing.T
	srv *httptest.Server
	key string

	mu      sync.Mutex
	events  []pdEvent
	raw     [][]byte
	alerts  map[string]string             // dedup_key -> triggered | resolved
	replies []func(w http.ResponseWriter) // queued answers, before checking
}

func newFakePD(t *testing.T, key string) *fakePD {
	f := &fakePD{t: t, key: key, alerts: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakePD) url() string { return f.srv.URL + "/v2/enqueue" }

func (f *fakePD) queue(reply func(w http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, reply)
}

func (f *fakePD) invalid(w http.ResponseWriter, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"status": "invalid event", "message": "Event object is invalid",
		"errors": []string{fmt.Sprintf(format, args...)},
	})
	f.t.Errorf("fake PagerDuty refused an event: "+format, args...)
}

// pdEvent is the request body as PagerDuty documents it, written from
// the docs rather than from the notifier's own types.
type pdEvent struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		Timestamp     string         `json:"timestamp"`
		Component     string         `json:"component"`
		Group         string         `json:"group"`
		Class         string         `json:"class"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
	Images []struct {
		Src  string `json:"src"`
		Href string `json:"href"`
		Alt  string `json:"alt"`
	} `json:"images"`
	Links []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
	Client    string `json:"client"`
	ClientURL string `json:"client_url"`
}

var (
	actions    = []string{"trigger", "acknowledge", "resolve"}
	severities = []string{"critical", "error", "warning", "info"}
)

func (f *fakePD) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.replies) > 0 {
		reply := f.replies[0]
		f.replies = f.replies[1:]
		reply(w)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		f.invalid(w, "%s %s", r.Method, r.URL.Path)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.invalid(w, "Content-Type %q", ct)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.raw = append(f.raw, body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var ev pdEvent
	if err := dec.Decode(&ev); err != nil {
		f.invalid(w, "not an event: %v", err)
		return
	}
	switch {
	case len(ev.RoutingKey) != 32:
		f.invalid(w, "routing_key must be 32 characters")
		return
	case ev.RoutingKey != f.key:
		f.invalid(w, "unknown routing_key")
		return
	case !slices.Contains(actions, ev.EventAction):
		f.invalid(w, "event_action %q", ev.EventAction)
		return
	case len(ev.DedupKey) > 255:
		f.invalid(w, "dedup_key longer than 255")
		return
	case ev.EventAction != "trigger" && ev.DedupKey == "":
		f.invalid(w, "dedup_key is required to %s", ev.EventAction)
		return
	}
	if ev.EventAction == "trigger" {
		p := ev.Payload
		switch {
		case p == nil:
			f.invalid(w, "payload is required to trigger")
			return
		case p.Summary == "" || len(p.Summary) > 1024:
			f.invalid(w, "payload.summary must be 1 to 1024 characters")
			return
		case p.Source == "":
			f.invalid(w, "payload.source is required")
			return
		case !slices.Contains(severities, p.Severity):
			f.invalid(w, "payload.severity %q", p.Severity)
			return
		}
		if p.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
				f.invalid(w, "payload.timestamp %q is not ISO 8601", p.Timestamp)
				return
			}
		}
		f.alerts[ev.DedupKey] = "triggered"
	} else if ev.EventAction == "resolve" {
		f.alerts[ev.DedupKey] = "resolved"
	}
	f.events = append(f.events, ev)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

func (f *fakePD) Events() []pdEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

func (f *fakePD) Raw() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.raw)
}

func (f *fakePD) Alert(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.alerts[key]
}
