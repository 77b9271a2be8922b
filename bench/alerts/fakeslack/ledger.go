package fakeslack

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/credmon/credmon/notify"
)

// Verdict is what the fake's ledger proves about a run: each message
// accepted exactly once, in its incident's order, follow-ups in the thread
// of the opening.
type Verdict struct {
	Messages   int
	Accepted   map[string]int // message ID → chat.postMessage calls accepted for it
	Duplicates []string       // message IDs accepted more than once
	Missing    []string       // message IDs never accepted
	Order      []string       // incidents whose messages came out of order
	Threading  []string       // follow-ups or updates outside the incident's thread
	Unknown    []string       // accepted calls that match no expected message
}

// OK reports whether the run delivered everything once, in order, threaded.
func (v Verdict) OK() bool { return len(v.Problems()) == 0 }

// Problems lists every violation, one line each.
func (v Verdict) Problems() []string {
	var out []string
	for _, id := range v.Duplicates {
		out = append(out, fmt.Sprintf("accepted %d times: %s", v.Accepted[id], id))
	}
	for _, id := range v.Missing {
		out = append(out, "never accepted: "+id)
	}
	out = append(out, v.Order...)
	out = append(out, v.Threading...)
	out = append(out, v.Unknown...)
	return out
}

// Verify checks reqs against the messages that were enqueued. Messages are
// told apart by incident and event, which the notifier's footer carries.
func Verify(msgs []notify.Message, reqs []Request) Verdict {
	v := Verdict{Messages: len(msgs), Accepted: make(map[string]int, len(msgs))}
	ids := make(map[string]string, len(msgs)) // incident|event → message ID
	want := make(map[string][]notify.Event)   // incident → events in enqueue order
	for _, m := range msgs {
		ids[m.IncidentKey+"|"+string(m.Event)] = m.ID
		want[m.IncidentKey] = append(want[m.IncidentKey], m.Event)
	}
	got := make(map[string][]notify.Event) // incident → events first accepted, in order
	opening := make(map[string]string)     // incident → ts of its accepted opening
	for _, r := range reqs {
		if !r.Accepted {
			continue
		}
		label := fmt.Sprintf("%s %s %s at t+%.2fs", r.Method, r.Incident, r.Event, r.At.Seconds())
		if r.Method == "chat.update" {
			if r.TS != opening[r.Incident] {
				v.Threading = append(v.Threading, fmt.Sprintf("%s updated ts %q, not the opening %q", label, r.TS, opening[r.Incident]))
			}
			continue
		}
		id, ok := ids[r.Incident+"|"+string(r.Event)]
		if !ok {
			v.Unknown = append(v.Unknown, "accepted but not enqueued: "+label)
			continue
		}
		v.Accepted[id]++
		if v.Accepted[id] == 1 {
			got[r.Incident] = append(got[r.Incident], r.Event)
		}
		if r.Event == notify.EventOpened {
			if r.ThreadTS != "" {
				v.Threading = append(v.Threading, label+" was posted inside a thread")
			}
			if _, seen := opening[r.Incident]; !seen {
				opening[r.Incident] = r.PostedTS
			}
			continue
		}
		if th := opening[r.Incident]; th == "" || r.ThreadTS != th {
			v.Threading = append(v.Threading, fmt.Sprintf("%s replied in thread %q, not the opening %q", label, r.ThreadTS, th))
		}
	}
	for _, m := range msgs {
		switch n := v.Accepted[m.ID]; {
		case n == 0:
			v.Missing = append(v.Missing, m.ID)
		case n > 1:
			v.Duplicates = append(v.Duplicates, m.ID)
		}
	}
	for inc, evs := range want {
		g := got[inc]
		// A prefix of the enqueue order is in order; what is missing is
		// reported as missing, not as disorder.
		if len(g) > len(evs) || !slices.Equal(g, evs[:len(g)]) {
			v.Order = append(v.Order, fmt.Sprintf("%s delivered as %v, enqueued as %v", inc, g, evs))
		}
	}
	slices.Sort(v.Order)
	return v
}

// Totals count a run's requests by outcome.
type Totals struct {
	Requests, Status5xx, Status429, Accepted, Stalled, Other int
}

// Count tallies reqs.
func Count(reqs []Request) Totals {
	var t Totals
	t.Requests = len(reqs)
	for _, r := range reqs {
		switch {
		case r.Stalled:
			t.Stalled++
		case r.Accepted:
			t.Accepted++
		case r.Status >= 500:
			t.Status5xx++
		case r.Status == http.StatusTooManyRequests:
			t.Status429++
		default:
			t.Other++
		}
	}
	return t
}

// Violation is a request that arrived while a Retry-After was in force.
type Violation struct {
	Limited Request // the request answered 429
	Request Request // the request sent during its Retry-After
}

// RetryAfterViolations finds requests that arrived after a 429 was
// answered and before its Retry-After ran out. sameMessage holds those
// for the message that got the 429; anyMessage those for every message,
// since Slack's limit is per app and method, not per message. Requests
// arriving within grace of the answer were already on their way (sent
// concurrently, before the client could know) and do not count.
func RetryAfterViolations(reqs []Request, grace time.Duration) (sameMessage, anyMessage []Violation) {
	for _, l := range reqs {
		if l.Status != http.StatusTooManyRequests || l.RetryAfter <= 0 {
			continue
		}
		from, until := l.Done+grace, l.Done+l.RetryAfter
		for _, r := range reqs {
			if r.At <= from || r.At >= until {
				continue
			}
			anyMessage = append(anyMessage, Violation{Limited: l, Request: r})
			if r.Incident == l.Incident && r.Event == l.Event {
				sameMessage = append(sameMessage, Violation{Limited: l, Request: r})
			}
		}
	}
	return sameMessage, anyMessage
}
