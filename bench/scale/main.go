// Command scale measures the daemon at scale: N checks on one schedule
// against a loopback HTTP target in a separate process, reporting probes/s,
// scheduler lag, CPU per 1,000 probes and peak RSS — and the same CPU figure
// for a bare net/http keep-alive loop doing the same requests (the floor).
//
//	go run ./bench/scale -checks 10000 -every 10s -jitter 10s -duration 60s
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/cmd/credmon/daemon"
	"github.com/credmon/credmon/store/storetest"
)

const benchKey = "sk_live_FAKEbench00000000000000b3c4"

type options struct {
	role, mode, driver, redisURL string
	checks, replicas, runs       int
	every, jitter, duration      time.Duration
	cpuprofile, memprofile       string
	binary                       string
	build                        string
	pprof                        bool
	profileDir, logDir           string
	cgroup                       string
}

func main() {
	var o options
	flag.StringVar(&o.role, "role", "driver", "driver; internal: target (the loopback API, a child process)")
	flag.StringVar(&o.mode, "mode", "both", "in-process: credmon, bare or both; binary: the real credmon binary and the floor as child processes")
	flag.StringVar(&o.driver, "store", "", "store driver for credmon: memory, bolt or redis (default bolt with -mode binary, memory otherwise)")
	flag.StringVar(&o.binary, "credmon", "", "-mode binary: path of the credmon binary (default: go build ./cmd/credmon)")
	flag.StringVar(&o.build, "build", "go", "-mode binary: how credmon and the floor are built: go (as go build/run/install) or image (as the Dockerfile: CGO_ENABLED=0, -trimpath, -ldflags=-s -w)")
	flag.IntVar(&o.runs, "runs", 3, "-mode binary: floor and credmon runs, alternated")
	flag.BoolVar(&o.pprof, "pprof", false, "-mode binary: set server.pprof: true in the generated config")
	flag.StringVar(&o.profileDir, "profile", "", "-mode binary: save credmon's CPU profile of the measured window and a heap profile at its end in this directory (implies -pprof)")
	flag.StringVar(&o.logDir, "logs", "", "-mode binary: keep each child's log in this directory")
	flag.StringVar(&o.cgroup, "cgroup", "", "-mode binary: run credmon in this memory cgroup (a directory made beforehand, with its limit set) and report its OOM kills and peak usage")
	flag.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/0", "redis URL for -store redis")
	flag.IntVar(&o.checks, "checks", 10000, "number of checks")
	flag.IntVar(&o.replicas, "replicas", 1, "credmon replicas in this process (use with -store redis)")
	flag.DurationVar(&o.every, "every", 10*time.Second, "schedule interval")
	flag.DurationVar(&o.jitter, "jitter", 10*time.Second, "scheduler jitter")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "measured time, after one interval of warm-up")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the credmon run")
	flag.StringVar(&o.memprofile, "memprofile", "", "write a heap profile at the end of the credmon run")
	flag.Parse()
	if o.role == "target" {
		serveTarget()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.mode == "binary" {
		if o.driver == "" {
			o.driver = "bolt"
		}
		if err := runBinaryMode(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "scale:", err)
			os.Exit(1)
		}
		return
	}
	if o.driver == "" {
		o.driver = "memory"
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func startTarget(ctx context.Context) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-role", "target")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t := &target{in: in, out: bufio.NewScanner(out), stop: func() { _ = in.Close(); _ = cmd.Wait() }}
	if !t.out.Scan() {
		t.stop()
		return nil, fmt.Errorf("target printed no address: %v", t.out.Err())
	}
	t.addr = strings.TrimSpace(t.out.Text())
	return t, nil
}

type measurement struct {
	name            string
	probes          int64
	window          time.Duration
	cpu             time.Duration
	maxRSSKiB       int64
	lags            []time.Duration
	scheduledPerSec float64
	failures        int64
}

func run(ctx context.Context, o options) error {
	t, err := startTarget(ctx)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer t.stop()
	addr := t.addr
	var ms []measurement
	if o.mode == "bare" || o.mode == "both" {
		m, err := runBare(ctx, o, addr)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	if o.mode == "credmon" || o.mode == "both" {
		m, err := runCredmon(ctx, o, addr)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	report(os.Stdout, o, ms)
	return nil
}

// runBare issues the same request rate with a plain keep-alive client.
func runBare(ctx context.Context, o options, addr string) (measurement, error) {
	m := measurement{name: "bare net/http loop", scheduledPerSec: float64(o.checks) / o.every.Seconds()}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := "http://" + addr + "/v1/account"
	interval := time.Duration(float64(time.Second) / m.scheduledPerSec)
	work := make(chan struct{}, 1024)
	var probes atomic.Int64
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	for range 64 {
		wg.Go(func() {
			for range work {
				req, _ := http.NewRequestWithContext(runCtx, http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+benchKey)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				probes.Add(1)
			}
		})
	}
	warm := time.Now().Add(o.every)
	end := warm.Add(o.duration)
	var cpu0 time.Duration
	var n0 int64
	next := time.Now()
	for now := time.Now(); now.Before(end) && ctx.Err() == nil; now = time.Now() {
		if !warm.IsZero() && now.After(warm) {
			cpu0, n0, warm = cpuTime(), probes.Load(), time.Time{}
		}
		next = next.Add(interval)
		time.Sleep(time.Until(next))
		work <- struct{}{}
	}
	m.cpu = cpuTime() - cpu0
	m.probes = probes.Load() - n0
	m.window = o.duration
	close(work)
	cancel()
	wg.Wait()
	m.maxRSSKiB = maxRSS()
	return m, nil
}

func runCredmon(ctx context.Context, o options, addr string) (measurement, error) {
	m := measurement{name: fmt.Sprintf("credmon (%s store, %d replica(s))", o.driver, o.replicas), scheduledPerSec: float64(o.checks) / o.every.Seconds()}
	dir, err := os.MkdirTemp("", "credmon-scale-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.yaml")
	prefix := fmt.Sprintf("credmon-bench-%d:", time.Now().UnixNano())
	if err := os.WriteFile(path, []byte(scaleConfig(o, addr, dir, prefix)), 0o600); err != nil {
		return m, err
	}
	if o.driver == "redis" {
		defer cleanRedis(o.redisURL, prefix)
	}
	var (
		mu       sync.Mutex
		lags     []time.Duration
		measure  atomic.Bool
		probes   atomic.Int64
		failures atomic.Int64
	)
	var firstRuns sync.Map // check → time of its first result
	started := time.Now()
	onResult := func(r checks.Result) {
		firstRuns.LoadOrStore(r.Check, time.Now())
		if !measure.Load() {
			return
		}
		probes.Add(1)
		if r.Cause != checks.CauseOK {
			failures.Add(1)
		}
		lag := r.Started.Sub(r.Tick.Add(schedule.Offset(r.Key(), o.jitter)))
		mu.Lock()
		lags = append(lags, lag)
		mu.Unlock()
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, o.replicas)
	for i := range o.replicas {
		d, err := daemon.New(runCtx, daemon.Options{ConfigPath: path, WatchInterval: -1, Listen: "127.0.0.1:0", OnResult: onResult,
			Instance: fmt.Sprintf("bench-%d", i+1),
			Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
		if err != nil {
			return m, err
		}
		go func() { done <- d.Serve(runCtx) }()
	}
	fmt.Fprintf(os.Stderr, "scale: peak RSS after loading %d checks × %d replicas: %.1f MiB\n", o.checks, o.replicas, float64(maxRSS())/1024)
	select {
	case <-time.After(o.every):
	case <-ctx.Done():
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return m, err
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
	}
	cpu0 := cpuTime()
	measure.Store(true)
	select {
	case <-time.After(o.duration):
	case <-ctx.Done():
	}
	measure.Store(false)
	m.cpu = cpuTime() - cpu0
	if o.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if o.memprofile != "" {
		f, err := os.Create(o.memprofile)
		if err != nil {
			return m, err
		}
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(os.Stderr, "scale: heap in use %.1f MiB, heap idle not released %.1f MiB, stacks %.1f MiB, other runtime %.1f MiB, goroutines %d\n",
		float64(ms.HeapInuse)/(1<<20), float64(ms.HeapIdle-ms.HeapReleased)/(1<<20), float64(ms.StackInuse)/(1<<20),
		float64(ms.Sys-ms.HeapSys-ms.StackSys)/(1<<20), runtime.NumGoroutine())
	var ran int
	var slowest time.Duration
	firstRuns.Range(func(_, v any) bool {
		ran++
		slowest = max(slowest, v.(time.Time).Sub(started))
		return true
	})
	fmt.Fprintf(os.Stderr, "scale: %d of %d checks ran at least once; the last first run came %s after start (interval %s)\n", ran, o.checks, slowest.Round(time.Millisecond), o.every)
	m.window = o.duration
	m.probes = probes.Load()
	m.failures = failures.Load()
	mu.Lock()
	m.lags = lags
	mu.Unlock()
	cancel()
	for range o.replicas {
		if err := <-done; err != nil {
			return m, err
		}
	}
	m.maxRSSKiB = maxRSS()
	return m, nil
}

func scaleConfig(o options, addr, dir, prefix string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "store: {driver: %s, path: %q, redis: {url: %q, key_prefix: %q}}\n", o.driver, filepath.Join(dir, "credmon.db"), o.redisURL, prefix)
	fmt.Fprintf(&b, "scheduler: {schedule: \"@every %s\", jitter: %s, timeout: 5s, max_concurrency: 256}\n", o.every, o.jitter)
	b.WriteString("notify: {console: false}\nenvironments:\n  prod:\n    credentials:\n")
	fmt.Fprintf(&b, "      key: {type: api_key, secret: %q, expect_prefix: [sk_live_]}\n    checks:\n", benchKey)
	for i := range o.checks {
		fmt.Fprintf(&b, "      - {name: c%05d, credential: key, url: \"http://%s/v1/account/%d\"}\n", i, addr, i)
	}
	return b.String()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}

func report(w io.Writer, o options, ms []measurement) {
	fmt.Fprintf(w, "%d checks @every %s, jitter %s, measured %s after %s warm-up\n\n", o.checks, o.every, o.jitter, o.duration, o.every)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tprobes/s\tscheduled/s\tnon-ok\tlag p50\tlag p99\tlag max\tCPU s/1k probes\tpeak RSS MiB\t")
	var floor float64
	for _, m := range ms {
		rate := float64(m.probes) / m.window.Seconds()
		perK := m.cpu.Seconds() / float64(m.probes) * 1000
		if strings.HasPrefix(m.name, "bare") {
			floor = perK
		}
		p50, p99, pmax := "-", "-", "-"
		if len(m.lags) > 0 {
			slices.Sort(m.lags)
			p50 = m.lags[len(m.lags)/2].Round(time.Microsecond * 100).String()
			p99 = m.lags[len(m.lags)*99/100].Round(time.Microsecond * 100).String()
			pmax = m.lags[len(m.lags)-1].Round(time.Microsecond * 100).String()
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%d\t%s\t%s\t%s\t%.3f\t%.1f\t\n", m.name, rate, m.scheduledPerSec, m.failures, p50, p99, pmax, perK, float64(m.maxRSSKiB)/1024)
	}
	tw.Flush()
	for _, m := range ms {
		if floor > 0 && !strings.HasPrefix(m.name, "bare") {
			fmt.Fprintf(w, "\n%s CPU per probe = %.2f × the bare loop\n", m.name, m.cpu.Seconds()/float64(m.probes)*1000/floor)
		}
	}
	fmt.Fprintln(w, "\n(peak RSS is the process's; when both runs share a process, the credmon run's figure includes the bare run's peak)")
}

// cleanRedis deletes the run's keys from the shared Redis.
func cleanRedis(url, prefix string) {
	if err := storetest.DeletePrefixAt(context.Background(), url, prefix); err != nil {
		fmt.Fprintln(os.Stderr, "scale: cleaning up redis:", err)
	}
}
