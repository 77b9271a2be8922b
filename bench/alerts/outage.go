package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/credmon/credmon/bench/alerts/fakeslack"
	"github.com/credmon/credmon/notify"
)

// sinceBase is the incidents' start: fixed, so message IDs repeat across runs.
var sinceBase = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

// inFlightGrace is how soon after a 429 another request may still arrive
// without breaking Retry-After: it was sent before the answer came back.
const inFlightGrace = 100 * time.Millisecond

// runOutage is scenario 1: messages enqueued while Slack fails, delivered
// once it recovers. It reports whether every check passed.
func runOutage(ctx context.Context, o options) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	st, prefix, cleanup, err := openStore(ctx, o.storeKind, o.redisURL, "")
	if err != nil {
		return false, err
	}
	defer cleanup()

	var phases []fakeslack.Phase
	if o.outage > 0 {
		phases = append(phases, fakeslack.Phase{For: o.outage, Status: http.StatusInternalServerError})
	}
	if o.rateLimit > 0 {
		phases = append(phases, fakeslack.Phase{For: o.rateLimit, Status: http.StatusTooManyRequests, RetryAfter: o.retryAfter})
	}
	fake := fakeslack.New(fakeslack.Options{Token: botToken, Phases: phases})
	defer fake.Close()
	log := logger(o.verbose)
	n, err := newNotifier(fake.APIURL(), st, nil, log)
	if err != nil {
		return false, err
	}
	msgs := fakeslack.Incidents(o.incidents, sinceBase)
	d := notify.NewDispatcher(st, []notify.Notifier{n}, notify.DispatcherOptions{
		Owner: "bench-outage", Lease: o.lease, Poll: o.poll, Logger: log,
	})
	runCtx, stopRun := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- d.Run(runCtx) }()

	// Alerts keep coming while Slack is down: spread them over the first
	// half of the outage.
	step := o.outage / 2 / time.Duration(len(msgs))
	var firstEnq, lastEnq time.Duration
	for i, m := range msgs {
		if i > 0 && step > 0 {
			select {
			case <-time.After(step):
			case <-ctx.Done():
			}
		}
		lastEnq = fake.Since(time.Now())
		if i == 0 {
			firstEnq = lastEnq
		}
		if err := d.Enqueue(ctx, m); err != nil {
			stopRun()
			<-stopped
			return false, err
		}
	}
	waitErr := fake.Await(ctx, allAccepted(msgs))
	if waitErr == nil {
		waitErr = drained(ctx, st)
	}
	stopRun()
	<-stopped

	reqs := fake.Requests()
	w := os.Stdout
	storeName := o.storeKind
	if prefix != "" {
		storeName += " (key prefix " + prefix + ")"
	}
	underline(w, fmt.Sprintf("Scenario 1 — Slack outage: HTTP 500 for %s, then 429 (Retry-After: %s) for %s, then recovery",
		o.outage, o.retryAfter, o.rateLimit))
	fmt.Fprintf(w, "outbox %s; %d incidents × 4 messages = %d, enqueued t+%s…t+%s; lease %s, poll %s; real slack.Notifier (bot mode)\n\n",
		storeName, o.incidents, len(msgs), secs(firstEnq), secs(lastEnq), o.lease, o.poll)
	fmt.Fprintln(w, "Timeline (t = seconds since the outage began; one line per Slack request)")
	printTimeline(w, reqs, false)
	fmt.Fprintln(w, "\nTotals")
	printTotals(w, fakeslack.Count(reqs))
	fmt.Fprintln(w, "\nPer incident")
	printIncidents(w, msgs, reqs)

	recovered := o.outage + o.rateLimit
	var first, last time.Duration
	for _, r := range reqs {
		if r.Accepted {
			if first == 0 {
				first = r.At
			}
			last = r.At
		}
	}
	fmt.Fprintf(w, "\nSlack recovered at t+%s; first message accepted t+%s, last t+%s: the backlog drained %ss after recovery\n",
		secs(recovered), secs(first), secs(last), secs(last-recovered))

	fmt.Fprintln(w, "\nChecks")
	c := newChecks(w)
	c.add(waitErr == nil, "every message delivered within %s and the outbox empty", o.timeout)
	if waitErr != nil {
		c.detail([]string{waitErr.Error()})
	}
	verdictChecks(c, msgs, fakeslack.Verify(msgs, reqs))
	same, anyMsg := fakeslack.RetryAfterViolations(reqs, inFlightGrace)
	c.add(len(same) == 0, "Retry-After honoured by the message that got the 429: %d requests for it inside the window", len(same))
	c.detail(violationLines(same))
	c.add(len(anyMsg) == 0, "Retry-After honoured by the notifier (Slack limits the app, not the message): %d requests inside a 429's window", len(anyMsg))
	c.detail(violationLines(anyMsg))
	return c.ok, nil
}

// allAccepted holds once Slack accepted every message at least once.
func allAccepted(msgs []notify.Message) func([]fakeslack.Request) bool {
	return func(reqs []fakeslack.Request) bool {
		return len(fakeslack.Verify(msgs, reqs).Missing) == 0
	}
}

// drained waits for the outbox to empty: the last Ack follows the last
// acceptance, and a duplicate could only be sent before it.
func drained(ctx context.Context, st outboxStore) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := st.Depth(ctx)
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("outbox still holds %d entries: %w", n, ctx.Err())
		case <-tick.C:
		}
	}
}

// printIncidents summarises each incident: attempts per message and when
// its opening and its resolution were accepted.
func printIncidents(w io.Writer, msgs []notify.Message, reqs []fakeslack.Request) {
	tw := table(w)
	fmt.Fprintln(tw, "  incident\tattempts opened/reminder/cause_changed/resolved\topening accepted\tresolved accepted")
	byInc := fakeslack.ByIncident(msgs)
	for _, m := range msgs {
		if m.Event != notify.EventOpened {
			continue
		}
		var attempts []string
		for _, im := range byInc[m.IncidentKey] {
			n := 0
			for _, r := range reqs {
				if r.Method == "chat.postMessage" && r.Incident == im.IncidentKey && r.Event == im.Event {
					n++
				}
			}
			attempts = append(attempts, fmt.Sprint(n))
		}
		opened, resolved := "-", "-"
		for _, r := range reqs {
			if !r.Accepted || r.Method != "chat.postMessage" || r.Incident != m.IncidentKey {
				continue
			}
			switch r.Event {
			case notify.EventOpened:
				opened = "t+" + secs(r.At)
			case notify.EventResolved:
				resolved = "t+" + secs(r.At)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", m.IncidentKey, strings.Join(attempts, "/"), opened, resolved)
	}
	tw.Flush()
}
