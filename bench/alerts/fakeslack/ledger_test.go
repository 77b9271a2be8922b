package fakeslack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/notify"
)

// The ledger is what both the benchmark and the outage test trust; each
// case breaks one promise and expects exactly that one reported.
func TestVerifyFindsEachBrokenPromise(t *testing.T) {
	msgs := Incidents(1, time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC))
	inc := msgs[0].IncidentKey
	post := func(ev notify.Event, thread, ts string) Request {
		return Request{Method: "chat.postMessage", Incident: inc, Event: ev, ThreadTS: thread, PostedTS: ts, Accepted: true, Status: 200}
	}
	update := Request{Method: "chat.update", Incident: inc, Event: notify.EventResolved, TS: "1.1", Accepted: true, Status: 200}
	good := []Request{
		post(notify.EventOpened, "", "1.1"),
		post(notify.EventReminder, "1.1", "1.2"),
		post(notify.EventCauseChanged, "1.1", "1.3"),
		update,
		post(notify.EventResolved, "1.1", "1.4"),
	}
	if p := Verify(msgs, good).Problems(); len(p) != 0 {
		t.Fatalf("a clean run reported %v", p)
	}
	cases := map[string]struct {
		reqs []Request
		want string
	}{
		"duplicate": {append(append([]Request(nil), good...), post(notify.EventReminder, "1.1", "1.5")), "accepted 2 times"},
		"missing":   {good[:4], "never accepted"},
		"order":     {[]Request{good[0], good[2], good[1], good[3], good[4]}, "delivered as"},
		"thread":    {[]Request{good[0], post(notify.EventReminder, "", "1.2"), good[2], good[3], good[4]}, "replied in thread"},
		"update":    {[]Request{good[0], good[1], good[2], {Method: "chat.update", Incident: inc, TS: "9.9", Accepted: true}, good[4]}, "updated ts"},
		"rejected":  {[]Request{good[0], good[1], good[2], good[3], {Method: "chat.postMessage", Incident: inc, Event: notify.EventResolved, ThreadTS: "1.1", Status: http.StatusInternalServerError}}, "never accepted"},
	}
	for name, c := range cases {
		p := Verify(msgs, c.reqs).Problems()
		if len(p) != 1 || !strings.Contains(p[0], c.want) {
			t.Errorf("%s: problems %q, want one containing %q", name, p, c.want)
		}
	}
}

func TestRetryAfterViolations(t *testing.T) {
	limited := Request{Incident: "a", Event: notify.EventOpened, Status: http.StatusTooManyRequests, Done: time.Second, RetryAfter: 3 * time.Second}
	inFlight := Request{Incident: "b", Event: notify.EventOpened, At: time.Second + 10*time.Millisecond}
	other := Request{Incident: "b", Event: notify.EventOpened, At: 2 * time.Second}
	same := Request{Incident: "a", Event: notify.EventOpened, At: 3 * time.Second}
	after := Request{Incident: "a", Event: notify.EventOpened, At: 4 * time.Second}
	sameMsg, anyMsg := RetryAfterViolations([]Request{limited, inFlight, other, same, after}, 100*time.Millisecond)
	if len(sameMsg) != 1 || sameMsg[0].Request.At != same.At {
		t.Errorf("same message: %+v, want only the request at 3s", sameMsg)
	}
	if len(anyMsg) != 2 {
		t.Errorf("any message: %d violations, want 2 (at 2s and 3s)", len(anyMsg))
	}
}
