// Command replicas runs several credmon replicas in one process against one
// Redis and a loopback API + OAuth2 token endpoint, then reports how many
// tokens the fleet fetched and whether every check ran exactly once per
// tick. With -kill-redis it starts its own redis-server, kills it mid-run
// and restarts it, reporting what happened to ticks and tokens meanwhile.
//
//	go run ./bench/replicas -replicas 3 -checks 300 -every 5s -token-ttl 30s -duration 2m
//	go run ./bench/replicas -duration 90s -kill-redis 20s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store/storetest"
)

const (
	clientID     = "credmon-bench"
	clientSecret = "cs_FAKEbenchSecret0000"
)

type options struct {
	replicas             int
	checks               int
	every, tokenTTL, dur time.Duration
	killRedis            time.Duration
	private              bool
	redisURL             string
}

func main() {
	var o options
	flag.IntVar(&o.replicas, "replicas", 3, "replicas in this process")
	flag.IntVar(&o.checks, "checks", 300, "checks, all sharing one OAuth2 credential")
	flag.DurationVar(&o.every, "every", 5*time.Second, "schedule interval")
	flag.DurationVar(&o.tokenTTL, "token-ttl", 30*time.Second, "access token lifetime (expires_in)")
	flag.DurationVar(&o.dur, "duration", 2*time.Minute, "how long to run")
	flag.DurationVar(&o.killRedis, "kill-redis", 0, "kill a private redis-server at a third of the run for this long")
	flag.BoolVar(&o.private, "private-redis", false, "run on a private redis-server and report its commands per executed probe")
	flag.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/0", "Redis to use when not killing one")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// target is the API and its token endpoint: it counts grants and accepts
// only tokens it issued that have not expired.
type target struct {
	ttl    time.Duration
	grants atomic.Int64
	mu     sync.Mutex
	tokens map[string]time.Time
	n      int
}

func (t *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		id, secret, ok := r.BasicAuth()
		if !ok || id != clientID || secret != clientSecret || r.PostFormValue("grant_type") != "client_credentials" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		t.grants.Add(1)
		t.mu.Lock()
		t.n++
		tok := fmt.Sprintf("at_FAKEbench_%06d", t.n)
		t.tokens[tok] = time.Now().Add(t.ttl)
		t.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(t.ttl.Seconds())})
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	t.mu.Lock()
	exp, ok := t.tokens[tok]
	t.mu.Unlock()
	if !ok || time.Now().After(exp) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	}
}

type run1 struct {
	check, replica string
	tick           time.Time
	cause          checks.Cause
	at             time.Time
}

func run(ctx context.Context, o options) error {
	tgt := &target{ttl: o.tokenTTL, tokens: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, tgt) }()
	base := "http://" + ln.Addr().String()

	redisURL := o.redisURL
	var rs *redisServer
	if o.killRedis > 0 || o.private {
		if rs, err = startRedis(); err != nil {
			return err
		}
		defer rs.stop()
		redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", rs.port)
	}
	dir, err := os.MkdirTemp("", "credmon-replicas-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prefix := fmt.Sprintf("credmon-bench-%d:", time.Now().UnixNano())
	if rs == nil {
		defer cleanRedis(redisURL, prefix)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(config(o, base, redisURL, prefix)), 0o600); err != nil {
		return err
	}
	os.Setenv("CREDMON_BENCH_KEY", "RkFLRWJlbmNoS2V5MDAwMDAwMDAwMDAwMDAwMDAwMDA=")

	var mu sync.Mutex
	var runs []run1
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.replicas {
		name := fmt.Sprintf("replica-%d", i+1)
		os.Setenv("CREDMON_BENCH_FALLBACK", filepath.Join(filepath.Dir(path), name+".db"))
		d, err := daemon.New(runCtx, daemon.Options{
			ConfigPath: path, WatchInterval: -1, Listen: "127.0.0.1:0", Instance: name,
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
			OnResult: func(r checks.Result) {
				if r.Kind == checks.SubjectCredential {
					return
				}
				mu.Lock()
				runs = append(runs, run1{check: r.Check, replica: name, tick: r.Tick, cause: r.Cause, at: time.Now()})
				mu.Unlock()
			},
		})
		if err != nil {
			return err
		}
		wg.Go(func() { _ = d.Serve(runCtx) })
	}
	var killedAt, restartedAt time.Time
	if rs != nil && o.killRedis > 0 {
		go func() {
			select {
			case <-time.After(o.dur / 3):
			case <-runCtx.Done():
				return
			}
			killedAt = time.Now()
			rs.kill()
			select {
			case <-time.After(o.killRedis):
			case <-runCtx.Done():
				return
			}
			if err := rs.restart(); err != nil {
				fmt.Fprintln(os.Stderr, "restart redis:", err)
			}
			restartedAt = time.Now()
		}()
	}
	select {
	case <-time.After(o.dur):
	case <-ctx.Done():
	}
	end := time.Now()
	var commands int64
	var perCommand string
	if rs != nil {
		commands, perCommand = rs.commands()
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	report(os.Stdout, o, runs, tgt.grants.Load(), start, end, killedAt, restartedAt)
	if commands > 0 {
		fmt.Fprintf(os.Stdout, "redis commands           %d (%.2f per executed probe%s)\n", commands, float64(commands)/float64(len(runs)),
			map[bool]string{true: "; counted since the restart", false: ""}[o.killRedis > 0])
		fmt.Fprintf(os.Stdout, "  by command             %s\n", perCommand)
	}
	return nil
}

func config(o options, base, redisURL, prefix string) string {
	var b strings.Builder
	// One outage buffer per replica (${CREDMON_BENCH_FALLBACK}, set before each starts).
	fmt.Fprintf(&b, "store: {driver: redis, redis: {url: %q, key_prefix: %q}, fallback_path: \"${CREDMON_BENCH_FALLBACK}\", encryption_key: {env: CREDMON_BENCH_KEY}}\n", redisURL, prefix)
	fmt.Fprintf(&b, "scheduler: {schedule: \"@every %s\", jitter: %s, timeout: 5s, max_concurrency: 128}\n", o.every, o.every)
	b.WriteString("notify: {console: false}\nenvironments:\n  prod:\n    credentials:\n")
	fmt.Fprintf(&b, "      client: {type: oauth2_client_credentials, token_url: %q, client_id: %s, client_secret: %q, auth_style: header, refresh_before: 5s}\n", base+"/oauth/token", clientID, clientSecret)
	b.WriteString("    checks:\n")
	for i := range o.checks {
		fmt.Fprintf(&b, "      - {name: c%04d, credential: client, url: %q}\n", i, fmt.Sprintf("%s/v1/%d", base, i))
	}
	return b.String()
}

func report(w io.Writer, o options, runs []run1, grants int64, start, end, killedAt, restartedAt time.Time) {
	type key struct {
		check string
		tick  int64
	}
	count := map[key]int{}
	ticks := map[int64]bool{}
	byReplica := map[string]int{}
	causes := map[checks.Cause]int{}
	for _, r := range runs {
		count[key{r.check, r.tick.Unix()}]++
		ticks[r.tick.Unix()] = true
		byReplica[r.replica]++
		causes[r.cause]++
	}
	// Count only ticks fully inside the run: the first and last may be cut.
	var inner []int64
	for t := range ticks {
		if time.Unix(t, 0).After(start.Add(o.every)) && time.Unix(t, 0).Add(2*o.every).Before(end) {
			inner = append(inner, t)
		}
	}
	sort.Slice(inner, func(i, j int) bool { return inner[i] < inner[j] })
	dups, misses, dupsDuringOutage, missesDuringOutage := 0, 0, 0, 0
	inOutage := func(t int64) bool {
		return !killedAt.IsZero() && !time.Unix(t, 0).Before(killedAt.Add(-o.every)) && (restartedAt.IsZero() || time.Unix(t, 0).Before(restartedAt.Add(2*o.every)))
	}
	for _, t := range inner {
		for i := range o.checks {
			n := count[key{fmt.Sprintf("c%04d", i), t}]
			switch {
			case n == 0:
				misses++
				if inOutage(t) {
					missesDuringOutage++
				}
			case n > 1:
				dups += n - 1
				if inOutage(t) {
					dupsDuringOutage += n - 1
				}
			}
		}
	}
	fmt.Fprintf(w, "%d replicas × %d checks @every %s, one OAuth2 credential, token lifetime %s, %s\n\n", o.replicas, o.checks, o.every, o.tokenTTL, end.Sub(start).Round(time.Second))
	fmt.Fprintf(w, "runs recorded            %d\n", len(runs))
	fmt.Fprintf(w, "ticks checked            %d (%d check-ticks)\n", len(inner), len(inner)*o.checks)
	fmt.Fprintf(w, "duplicate runs           %d\n", dups)
	fmt.Fprintf(w, "missed check-ticks       %d\n", misses)
	fmt.Fprintf(w, "token endpoint grants    %d (ideal: run time / token lifetime ≈ %.1f)\n", grants, end.Sub(start).Seconds()/(o.tokenTTL-5*time.Second).Seconds())
	var names []string
	for n := range byReplica {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "runs by %-16s %d\n", n, byReplica[n])
	}
	var cs []string
	for c, n := range causes {
		cs = append(cs, fmt.Sprintf("%s=%d", c, n))
	}
	sort.Strings(cs)
	fmt.Fprintf(w, "causes                   %s\n", strings.Join(cs, " "))
	if !killedAt.IsZero() {
		fmt.Fprintf(w, "\nredis killed at +%s, restarted at +%s\n", killedAt.Sub(start).Round(time.Second), restartedAt.Sub(start).Round(time.Second))
		fmt.Fprintf(w, "during the outage: %d duplicate runs (replicas scheduled locally), %d missed check-ticks\n", dupsDuringOutage, missesDuringOutage)
		fmt.Fprintf(w, "outside it:        %d duplicate runs, %d missed check-ticks\n", dups-dupsDuringOutage, misses-missesDuringOutage)
	}
}

// redisServer is a private redis-server this program can kill.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func startRedis() (*redisServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	rs := &redisServer{port: port}
	return rs, rs.restart()
}

func (rs *redisServer) restart() error {
	rs.cmd = exec.Command("redis-server", "--port", fmt.Sprint(rs.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := rs.cmd.Start(); err != nil {
		return err
	}
	for range 100 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", rs.port))
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server did not start on port %d", rs.port)
}

// commands is how many commands the server has executed (INFO
// commandstats, summed) since it last started, and the count of each.
func (rs *redisServer) commands() (int64, string) {
	out, err := exec.Command("redis-cli", "-p", fmt.Sprint(rs.port), "info", "commandstats").Output()
	if err != nil {
		return 0, ""
	}
	var total int64
	var each []string
	for _, line := range strings.Split(string(out), "\n") {
		name, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		var n int64
		fmt.Sscanf(rest, "%d", &n)
		total += n
		each = append(each, fmt.Sprintf("%s=%d", strings.TrimPrefix(name, "cmdstat_"), n))
	}
	return total, strings.Join(each, " ")
}

func (rs *redisServer) kill() {
	_ = rs.cmd.Process.Kill()
	_ = rs.cmd.Wait()
}

func (rs *redisServer) stop() { rs.kill() }

// cleanRedis deletes the run's keys from the shared Redis.
func cleanRedis(url, prefix string) {
	if err := storetest.DeletePrefixAt(context.Background(), url, prefix); err != nil {
		fmt.Fprintln(os.Stderr, "replicas: cleaning up redis:", err)
	}
}
