package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	credchecks "github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store/storetest"
)

// The redis scenario: replicas of the real daemon (in this process) over a
// private redis-server that goes away while incidents open and resolve,
// then comes back empty (killed, no persistence) or with its data (frozen
// with SIGSTOP, as across a partition). Every message any replica
// delivers is recorded, with every probe it runs.

const benchKey = "sk_test_FAKEbenchAlertsRedisOutage0"

// redisBench is one run of the scenario.
type redisBench struct {
	o      options
	empty  bool
	api    *switchAPI
	mu     sync.Mutex
	msgs   map[string][]delivery // "check event" → deliveries
	runs   map[string][]string   // "check@tick" → replicas that ran it
	ticks  map[string]time.Time  // "check@tick" → the tick
	notify chan struct{}
}

type delivery struct {
	replica string
	at      time.Time
}

type switchAPI struct {
	mu      sync.Mutex
	failing map[string]bool
}

func (a *switchAPI) set(fail bool, paths ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range paths {
		a.failing[p] = fail
	}
}

func (a *switchAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	fail := a.failing[r.URL.Path]
	a.mu.Unlock()
	if fail || r.Header.Get("Authorization") != "Bearer "+benchKey {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	_, _ = io.WriteString(w, `{"ok":true}`)
}

type benchNotifier struct {
	b       *redisBench
	replica string
}

func (n benchNotifier) Name() string { return "bench" }

func (n benchNotifier) Notify(_ context.Context, m notify.Message) (bool, error) {
	k := m.Check + " " + string(m.Event)
	n.b.mu.Lock()
	n.b.msgs[k] = append(n.b.msgs[k], delivery{n.replica, time.Now()})
	n.b.mu.Unlock()
	select {
	case n.b.notify <- struct{}{}:
	default:
	}
	return false, nil
}

func (b *redisBench) observe(r credchecks.Result) {
	if r.Kind != credchecks.SubjectCheck {
		return
	}
	k := r.Check + "@" + r.Tick.Format(time.RFC3339Nano)
	b.mu.Lock()
	b.runs[k] = append(b.runs[k], r.RunBy)
	b.ticks[k] = r.Tick
	b.mu.Unlock()
}

// delivered reports whether each key was delivered at least once.
func (b *redisBench) delivered(keys ...string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		if len(b.msgs[k]) == 0 {
			return false
		}
	}
	return true
}

// waitUntil polls cond, at each delivery and every 100 ms, until limit.
func (b *redisBench) waitUntil(ctx context.Context, what string, limit time.Duration, cond func() bool) error {
	guard := time.NewTimer(limit)
	defer guard.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-guard.C:
			return fmt.Errorf("%s: not within %v", what, limit)
		case <-b.notify:
		case <-tick.C:
		}
	}
	return nil
}

// runs counts the check-ticks in [from, to) and the probe runs of them.
func (b *redisBench) runsIn(from, to time.Time) (ticks, runs int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, by := range b.runs {
		if t := b.ticks[k]; !t.Before(from) && t.Before(to) {
			ticks++
			runs += len(by)
		}
	}
	return ticks, runs
}

type replicaProc struct {
	id     string
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func (b *redisBench) start(ctx context.Context, dir, configPath, id string) (*replicaProc, error) {
	if err := os.Setenv("CREDMON_BENCH_FALLBACK", filepath.Join(dir, id+".db")); err != nil {
		return nil, err
	}
	ready := make(chan string, 1)
	rctx, cancel := context.WithCancel(ctx)
	d, err := daemon.New(rctx, daemon.Options{
		ConfigPath: configPath, WatchInterval: -1, Instance: id, Listen: "127.0.0.1:0",
		OutageGrace: b.o.grace,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:       func(addr string) { ready <- addr },
		Notifiers:   []notify.Notifier{benchNotifier{b, id}},
		OnResult:    b.observe,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	p := &replicaProc{id: id, cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- d.Serve(rctx) }()
	select {
	case p.addr = <-ready:
	case err := <-p.done:
		cancel()
		return nil, fmt.Errorf("%s: %v", id, err)
	case <-time.After(30 * time.Second):
		cancel()
		return nil, fmt.Errorf("%s did not listen within 30s", id)
	}
	return p, nil
}

func readyz(addr string) int {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// runRedisOutage runs the scenario once per way back and prints a table.
func runRedisOutage(ctx context.Context, o options) (bool, error) {
	fmt.Printf("Redis outage: %d replicas, %d checks @every 1s, failure_threshold 2, success_threshold 1, Redis away %v, probing grace %v\n",
		o.replicas, 10, o.redisDown, graceText(o.grace))
	ok := true
	for _, empty := range []bool{true, false} {
		good, err := redisOutageOnce(ctx, o, empty)
		if err != nil {
			return false, err
		}
		ok = ok && good
	}
	return ok, nil
}

func graceText(g time.Duration) string {
	if g <= 0 {
		return "1m0s (default)"
	}
	return g.String()
}

func redisOutageOnce(ctx context.Context, o options, empty bool) (bool, error) {
	b := &redisBench{o: o, empty: empty, api: &switchAPI{failing: map[string]bool{}},
		msgs: map[string][]delivery{}, runs: map[string][]string{}, ticks: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	srv, err := storetest.NewRedisServer(ctx)
	if err != nil {
		return false, err
	}
	defer srv.Close()
	target := httptest.NewServer(b.api)
	defer target.Close()
	dir, err := os.MkdirTemp("", "credmon-bench-alerts-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if err := os.Setenv("CREDMON_BENCH_KEY", benchKey); err != nil {
		return false, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "store: {driver: redis, redis: {url: %q}, fallback_path: \"${CREDMON_BENCH_FALLBACK}\"}\nscheduler: {schedule: \"@every 1s\"}\nalerting: {failure_threshold: 2, success_threshold: 1}\nnotify: {console: false}\nenvironments:\n  prod:\n    credentials:\n      key: {type: api_key, secret: {env: CREDMON_BENCH_KEY}}\n    checks:\n", srv.URL())
	for i := range 10 {
		fmt.Fprintf(&cfg, "      - {name: c%d, credential: key, url: %q}\n", i, fmt.Sprintf("%s/c%d", target.URL, i))
	}
	configPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(configPath, []byte(cfg.String()), 0o600); err != nil {
		return false, err
	}
	var reps []*replicaProc
	defer func() {
		for _, r := range reps {
			r.cancel()
			<-r.done
		}
	}()
	for i := range o.replicas {
		r, err := b.start(ctx, dir, configPath, fmt.Sprintf("replica-%c", 'a'+i))
		if err != nil {
			return false, err
		}
		reps = append(reps, r)
	}
	allReady := func(code int) func() bool {
		return func() bool {
			for _, r := range reps {
				if readyz(r.addr) != code {
					return false
				}
			}
			return true
		}
	}
	if err := b.waitUntil(ctx, "replicas ready", 30*time.Second, allReady(http.StatusOK)); err != nil {
		return false, err
	}
	// Two incidents open before the outage; heartbeats cover every replica.
	b.api.set(true, "/c8", "/c9")
	settled := time.Now().Add(2*5*time.Second + time.Second)
	if err := b.waitUntil(ctx, "c8, c9 opened; two heartbeats", 60*time.Second, func() bool {
		return b.delivered("c8 opened", "c9 opened") && time.Now().After(settled)
	}); err != nil {
		return false, err
	}

	down := time.Now()
	if empty {
		srv.Kill()
	} else if err := srv.Freeze(); err != nil {
		return false, err
	}
	b.api.set(true, "/c0", "/c1", "/c2", "/c3", "/c4")
	b.api.set(false, "/c8", "/c9")
	during := []string{"c0 opened", "c1 opened", "c2 opened", "c3 opened", "c4 opened", "c8 resolved", "c9 resolved"}
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-time.After(o.redisDown):
	}
	back := time.Now()
	if empty {
		err = srv.Restart(ctx)
	} else {
		err = srv.Thaw()
	}
	if err != nil {
		return false, err
	}
	if err := b.waitUntil(ctx, "replicas ready again", 60*time.Second, allReady(http.StatusOK)); err != nil {
		return false, err
	}
	readyAgain := time.Since(back)
	if err := b.waitUntil(ctx, "the outage's transitions", 60*time.Second, func() bool { return b.delivered(during...) }); err != nil {
		return false, err
	}
	// Fifteen seconds on with the five still failing, then they recover.
	hold := time.Now().Add(15 * time.Second)
	_ = b.waitUntil(ctx, "hold", 20*time.Second, func() bool { return time.Now().After(hold) })
	b.api.set(false, "/c0", "/c1", "/c2", "/c3", "/c4")
	after := []string{"c0 resolved", "c1 resolved", "c2 resolved", "c3 resolved", "c4 resolved"}
	if err := b.waitUntil(ctx, "the recoveries", 60*time.Second, func() bool { return b.delivered(after...) }); err != nil {
		return false, err
	}
	end := time.Now().Add(10 * time.Second)
	_ = b.waitUntil(ctx, "settle", 15*time.Second, func() bool { return time.Now().After(end) })

	way := "back empty (killed, restarted without data)"
	if !empty {
		way = "back with its data (frozen, then resumed)"
	}
	fmt.Printf("\n%s; replicas ready again %.1fs after Redis returned\n", way, readyAgain.Seconds())
	w := table(os.Stdout)
	fmt.Fprintln(w, "transition\tmessages\tdelivered by\tdelay after the change\twhen")
	b.mu.Lock()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range b.msgs {
			if !yield(k) {
				return
			}
		}
	})
	want := map[string]bool{"c8 opened": true, "c9 opened": true}
	for _, k := range append(during, after...) {
		want[k] = true
	}
	ok := true
	for k := range want {
		if len(b.msgs[k]) == 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var delays []time.Duration
	for _, k := range keys {
		ds := b.msgs[k]
		var by []string
		for _, d := range ds {
			by = append(by, d.replica)
		}
		when, delay := "before the outage", "-"
		if slices.Contains(during, k) && len(ds) > 0 {
			dl := ds[0].at.Sub(down)
			delay = secs(dl)
			if ds[0].at.Before(back) {
				when = "during the outage"
				delays = append(delays, dl)
			} else {
				when = "after Redis returned"
			}
		} else if slices.Contains(after, k) {
			when = "after Redis returned"
		}
		if !want[k] || len(ds) != 1 {
			ok = false
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", k, len(ds), strings.Join(by, " "), delay, when)
	}
	b.mu.Unlock()
	w.Flush()
	slices.Sort(delays)
	bound := 2*time.Second + 30*time.Second
	if len(delays) > 0 {
		fmt.Printf("outage transitions delivered during it: %d of %d; delay median %s s, max %s s (bound failure_threshold × interval + 30 s = %s s)\n",
			len(delays), len(during), secs(delays[len(delays)/2]), secs(delays[len(delays)-1]), secs(bound))
		if delays[len(delays)-1] > bound {
			ok = false
		}
	} else {
		fmt.Printf("outage transitions delivered during it: 0 of %d\n", len(during))
		ok = false
	}
	tD, rD := b.runsIn(down, back)
	tA, rA := b.runsIn(back, time.Now())
	fmt.Printf("probe runs during the outage: %d for %d check-ticks (%d duplicate); after it: %d for %d (%d duplicate)\n", rD, tD, rD-tD, rA, tA, rA-tA)
	if !ok {
		fmt.Println("VIOLATED: a transition was not delivered exactly once, or late")
	}
	return ok, nil
}
