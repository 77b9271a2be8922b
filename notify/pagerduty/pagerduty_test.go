package pagerduty

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/notify"
)

// fakeKey looks like an integration key (32 characters) and like a fake.
const fakeKey = "FAKEpdROUTINGkey0000000000000000"

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func message(ev notify.Event, cause, prev checks.Cause) notify.Message {
	return notify.Message{
		ID: "prod/payments/auth/1-1-" + string(ev), IncidentKey: "prod/payments/auth", Event: ev,
		At: t0.Add(time.Hour), Since: t0, Env: "prod", Check: "payments", Credential: "payments-key",
		Identity: "api_key Authorization: Bearer sk_live_…a1b2", Status: cause.Status(), Cause: cause, PrevCause: prev,
		HTTPStatus: 401, Detail: "The API says the key was revoked.", Hint: "Issue a new key.",
	}
}

func newPD(t *testing.T, f *fakePD) *Notifier {
	t.Helper()
	n, err := New(Options{RoutingKey: fakeKey, URL: f.url(), ClientURL: "https://credmon.example/"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustNotify(t *testing.T, n *Notifier, m notify.Message) {
	t.Helper()
	if retry, err := n.Notify(context.Background(), m); err != nil {
		t.Fatalf("Notify(%s): retry=%v %v", m.Event, retry, err)
	}
}

// TestIncidentLifecycle: opened, reminder and a cause change trigger the
// same PagerDuty alert, the resolution resolves it, and a notifier built
// afresh (a restart, another replica) uses the same dedup_key.
func TestIncidentLifecycle(t *testing.T) {
	f := newFakePD(t, fakeKey)
	mustNotify(t, newPD(t, f), message(notify.EventOpened, checks.CauseRevoked, ""))
	restarted := newPD(t, f)
	mustNotify(t, restarted, message(notify.EventReminder, checks.CauseRevoked, ""))
	mustNotify(t, restarted, message(notify.EventCauseChanged, checks.CauseInvalidToken, checks.CauseRevoked))
	if got := f.Alert("prod/payments/auth"); got != "triggered" {
		t.Fatalf("alert is %q before the resolution", got)
	}
	mustNotify(t, restarted, message(notify.EventResolved, checks.CauseOK, checks.CauseInvalidToken))
	mustNotify(t, restarted, message(notify.EventRotated, checks.CauseOK, "")) // not an incident: not sent

	evs := f.Events()
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4", len(evs))
	}
	for i, want := range []string{"trigger", "trigger", "trigger", "resolve"} {
		if evs[i].EventAction != want || evs[i].DedupKey != "prod/payments/auth" {
			t.Errorf("event %d: %s %q, want %s prod/payments/auth", i, evs[i].EventAction, evs[i].DedupKey, want)
		}
	}
	if got := f.Alert("prod/payments/auth"); got != "resolved" {
		t.Errorf("alert is %q after the resolution", got)
	}
	p := evs[0].Payload
	if p.Severity != "critical" || p.Source != "prod/payments" || p.Class != "revoked" || p.Group != "prod" {
		t.Errorf("payload %+v", p)
	}
	if !strings.Contains(p.Summary, "revoked") || !strings.Contains(p.Summary, "prod") {
		t.Errorf("summary %q", p.Summary)
	}
	if d := p.CustomDetails; d["fix"] != "Issue a new key." || d["identity"] == nil || d["http_status"] != float64(401) {
		t.Errorf("custom_details %v", d)
	}
	if evs[2].Payload.Class != "invalid_token" || evs[2].Payload.CustomDetails["previous_cause"] != "revoked" {
		t.Errorf("cause change payload %+v", evs[2].Payload)
	}
	// The routing key is only ever in routing_key.
	for _, raw := range f.Raw() {
		if strings.Count(string(raw), fakeKey[:12]) != 1 {
			t.Errorf("the routing key appears outside routing_key: %s", raw)
		}
	}
}

func TestSeverityFromStatus(t *testing.T) {
	f := newFakePD(t, fakeKey)
	n := newPD(t, f)
	for _, c := range []checks.Cause{checks.CauseRevoked, checks.CauseRotationDue, checks.CauseUnreachable} {
		m := message(notify.EventOpened, c, "")
		m.IncidentKey = "prod/x/" + string(c)
		mustNotify(t, n, m)
	}
	var got []string
	for _, ev := range f.Events() {
		got = append(got, ev.Payload.Severity)
	}
	if strings.Join(got, ",") != "critical,warning,error" {
		t.Errorf("severities %v", got)
	}
}

func TestDedupKeyLimit(t *testing.T) {
	long := "prod/" + strings.Repeat("c", 300) + "/auth"
	k := DedupKey(long)
	if len(k) > 255 || k == DedupKey(long+"x") || k != DedupKey(long) {
		t.Errorf("DedupKey: %d bytes, not stable or not distinct", len(k))
	}
	if DedupKey("prod/a/auth") != "prod/a/auth" {
		t.Error("a short key must be the incident key itself")
	}
}

// TestFailures: what PagerDuty's answers mean for the outbox, and no
// answer brings the routing key into an error.
func TestFailures(t *testing.T) {
	f := newFakePD(t, fakeKey)
	n := newPD(t, f)
	cases := []struct {
		name  string
		reply func(w http.ResponseWriter)
		retry bool
		after time.Duration
	}{
		{"429", func(w http.ResponseWriter) { w.Header().Set("Retry-After", "30"); w.WriteHeader(429) }, true, 30 * time.Second},
		{"500 echoing the key", func(w http.ResponseWriter) { http.Error(w, "upstream said routing_key="+fakeKey, 500) }, true, 0},
		{"400 echoing the key", func(w http.ResponseWriter) {
			http.Error(w, `{"status":"invalid event","message":"Event object is invalid","errors":["bad key `+fakeKey+`"]}`, 400)
		}, false, 0},
		{"redirect", func(w http.ResponseWriter) {
			w.Header().Set("Location", "https://evil.invalid/?k="+fakeKey)
			w.WriteHeader(302)
		}, false, 0},
	}
	for _, c := range cases {
		f.queue(c.reply)
		retry, err := n.Notify(context.Background(), message(notify.EventOpened, checks.CauseRevoked, ""))
		if err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		var ra notify.RetryAfter
		after := time.Duration(0)
		if errors.As(err, &ra) {
			after = ra.RetryAfter()
		}
		if retry != c.retry || after != c.after {
			t.Errorf("%s: retry=%v after=%s, want %v %s", c.name, retry, after, c.retry, c.after)
		}
		if strings.Contains(err.Error(), fakeKey[:12]) {
			t.Errorf("%s: error leaks the routing key: %v", c.name, err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for name, o := range map[string]Options{
		"no key":           {URL: "https://events.pagerduty.com/v2/enqueue"},
		"newline":          {RoutingKey: fakeKey + "\n"},
		"plain http":       {RoutingKey: fakeKey, URL: "http://events.pagerduty.example/v2/enqueue"},
		"credentials":      {RoutingKey: fakeKey, URL: "https://u:p@events.pagerduty.com/v2/enqueue"},
		"not a URL at all": {RoutingKey: fakeKey, URL: "events"},
	} {
		n, err := New(o)
		if err == nil {
			t.Errorf("%s: New accepted %+v", name, n)
			continue
		}
		if strings.Contains(err.Error(), fakeKey[:12]) {
			t.Errorf("%s: error leaks the key: %v", name, err)
		}
	}
}
