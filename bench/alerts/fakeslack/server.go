// Package fakeslack owns a scripted Slack Web API for alert-delivery benchmarks
// and tests: outage phases, stalled replicas, and a ledger of what it accepted.
package fakeslack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/notify"
)

// ReplicaHeader names the replica a request comes from; the fake stalls
// the replica it is told to, the way a network partition or a hung
// connection would, so that replica can be killed holding its leases.
const ReplicaHeader = "X-Credmon-Bench-Replica"

// Phase is one stretch of the script: Status answers every request until
// For has passed or Requests were answered, whichever is set and comes
// first; then the next phase begins. After the last phase Slack works.
// Phases by count make tests independent of timing; phases by time are
// what an outage looks like.
type Phase struct {
	For        time.Duration
	Requests   int
	Status     int           // e.g. 500, or 429
	RetryAfter time.Duration // sent with 429, in whole seconds as Slack does
}

// Options configure a Server.
type Options struct {
	Token        string  // the bot token every request must carry as a Bearer
	Phases       []Phase // counted from New
	StallReplica string  // requests whose ReplicaHeader equals this are never answered
}

// Request is one call the fake received and how it answered.
type Request struct {
	At       time.Duration // since New
	Done     time.Duration // when the answer was written; 0 if stalled
	Method   string        // chat.postMessage or chat.update
	Incident string        // from the message's footer
	Event    notify.Event  // from the footer; chat.update is always the resolved marking
	Channel  string
	TS       string // chat.update: the message updated
	ThreadTS string // chat.postMessage: the thread replied in
	Replica  string // ReplicaHeader's value
	Status   int    // HTTP status answered; 0 when stalled
	// RetryAfter is what a 429 asked for.
	RetryAfter time.Duration
	Stalled    bool
	Accepted   bool   // answered ok:true
	PostedTS   string // chat.postMessage accepted: the ts given to the new message
	Error      string // Slack error code answered with HTTP 200, if any
}

// Server is the fake Slack. It is safe for concurrent use.
type Server struct {
	opts  Options
	srv   *httptest.Server
	start time.Time
	stop  chan struct{} // closed by Close: releases stalled handlers

	mu      sync.Mutex
	reqs    []Request
	ts      int
	changed chan struct{} // closed and replaced on every request or answer
	stalled chan struct{} // closed at the first stalled request

	phase     int           // index of the current phase
	phaseFrom time.Duration // when it began
	phaseN    int           // requests it answered
}

// New starts a fake Slack on loopback; its script starts now.
func New(opts Options) *Server {
	s := &Server{opts: opts, stop: make(chan struct{}), changed: make(chan struct{}), stalled: make(chan struct{})}
	s.start = time.Now()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIURL is the Web API base URL, for slack.Options.APIURL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Since is the time elapsed on the script's clock.
func (s *Server) Since(t time.Time) time.Duration { return t.Sub(s.start) }

// Close releases stalled requests and stops the server.
func (s *Server) Close() {
	close(s.stop)
	s.srv.Close()
}

// Requests returns every request so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// FirstStalled is closed when the first request of StallReplica arrives.
func (s *Server) FirstStalled() <-chan struct{} { return s.stalled }

// Await blocks until done holds for the requests so far, or ctx ends. It
// wakes on every request and answer rather than polling.
func (s *Server) Await(ctx context.Context, done func([]Request) bool) error {
	for {
		s.mu.Lock()
		ok := done(s.reqs)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// phaseAt returns what the script says to answer a request arriving at
// d, and counts the request against the phase.
func (s *Server) phaseAt(d time.Duration) (Phase, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.phase < len(s.opts.Phases) {
		p := s.opts.Phases[s.phase]
		timeUp := p.For > 0 && d >= s.phaseFrom+p.For
		if !timeUp && (p.Requests <= 0 || s.phaseN < p.Requests) {
			s.phaseN++
			return p, true
		}
		// A timed phase ends on schedule, however late the request that
		// notices it; a counted one ends now.
		if timeUp {
			s.phaseFrom += p.For
		} else {
			s.phaseFrom = d
		}
		s.phase++
		s.phaseN = 0
	}
	return Phase{}, false
}

// record appends r (or updates entry i when i >= 0) and wakes Await.
func (s *Server) record(i int, r Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 {
		s.reqs = append(s.reqs, r)
		i = len(s.reqs) - 1
	} else {
		s.reqs[i] = r
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return i
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Since(s.start)
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	form, _ := url.ParseQuery(string(raw))
	req := Request{
		At:       at,
		Method:   strings.TrimPrefix(r.URL.Path, "/api/"),
		Channel:  form.Get("channel"),
		TS:       form.Get("ts"),
		ThreadTS: form.Get("thread_ts"),
		Replica:  r.Header.Get(ReplicaHeader),
	}
	req.Event, req.Incident = footer(form.Get("blocks"))
	if req.Method == "chat.update" {
		// Only a resolved message updates the opening; the rebuilt opening's
		// footer says "opened", which is not the event that caused it.
		req.Event = notify.EventResolved
	}

	if s.opts.StallReplica != "" && req.Replica == s.opts.StallReplica {
		req.Stalled = true
		s.record(-1, req)
		s.mu.Lock()
		select {
		case <-s.stalled:
		default:
			close(s.stalled)
		}
		s.mu.Unlock()
		// Never answer: the replica holds its lease until it dies.
		select {
		case <-r.Context().Done():
		case <-s.stop:
		}
		return
	}
	i := s.record(-1, req)
	authOK := s.opts.Token != "" && r.Header.Get("Authorization") == "Bearer "+s.opts.Token
	s.answer(w, &req, at, authOK)
	req.Done = time.Since(s.start)
	s.record(i, req)
}

// answer writes the scripted or normal reply and notes it in req.
func (s *Server) answer(w http.ResponseWriter, req *Request, at time.Duration, authOK bool) {
	if p, ok := s.phaseAt(at); ok {
		if p.Status == http.StatusTooManyRequests {
			secs := int(math.Ceil(p.RetryAfter.Seconds()))
			req.RetryAfter = time.Duration(secs) * time.Second
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		req.Status = p.Status
		w.WriteHeader(p.Status)
		return
	}
	req.Status = http.StatusOK
	w.Header().Set("Content-Type", "application/json")
	// Checked only once Slack works: a real outage answers before auth.
	fail := func(code string) {
		req.Error = code
		_, _ = fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
	}
	switch {
	case req.Method != "chat.postMessage" && req.Method != "chat.update":
		req.Status = http.StatusNotFound
		w.WriteHeader(http.StatusNotFound)
		fail("unknown_method")
	case !authOK:
		fail("invalid_auth")
	case req.Incident == "":
		fail("invalid_blocks")
	case req.Channel == "":
		fail("channel_not_found")
	case req.Method == "chat.update" && req.TS == "":
		fail("message_not_found")
	case req.Method == "chat.update":
		req.Accepted = true
		_, _ = fmt.Fprintf(w, `{"ok":true,"channel":%q,"ts":%q,"text":"updated"}`, req.Channel, req.TS)
	default:
		s.mu.Lock()
		s.ts++
		req.PostedTS = fmt.Sprintf("1700000000.%06d", s.ts)
		s.mu.Unlock()
		req.Accepted = true
		_, _ = fmt.Fprintf(w, `{"ok":true,"channel":"C1","ts":%q}`, req.PostedTS)
	}
}

// footerPattern reads the context block the notifier ends every message
// with: "credmon · EVENT · incident `KEY` · date".
var footerPattern = regexp.MustCompile("credmon · ([a-z_]+) · incident `([^`]+)`")

// footer returns the event and incident a message's blocks name.
func footer(blocksJSON string) (notify.Event, string) {
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Text string `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal([]byte(blocksJSON), &blocks) != nil {
		return "", ""
	}
	for _, b := range blocks {
		if b.Type != "context" {
			continue
		}
		for _, e := range b.Elements {
			if m := footerPattern.FindStringSubmatch(e.Text); m != nil {
				return notify.Event(m[1]), m[2]
			}
		}
	}
	return "", ""
}
