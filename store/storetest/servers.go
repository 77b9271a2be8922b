package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis servers of a test's own: child processes on free loopback ports,
// for what the shared Redis at REDIS_URL cannot show (a Cluster, a
// Sentinel failover). They are killed at cleanup, and with the test
// binary if it dies first.

// startTimeout bounds every wait for a server group to come up.
const startTimeout = 30 * time.Second

// NeedBinaries skips tb when a program is not on PATH, or fails it under
// CI=true, where every test must run.
func NeedBinaries(tb testing.TB, names ...string) {
	tb.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				tb.Fatalf("%s is not installed (CI=true requires it; .ci/run installs it): %v", name, err)
			}
			tb.Skipf("%s is not installed, skipping (apt-get install redis-server redis-tools; with CI=true this fails)", name)
		}
	}
}

// NewPrefix is a key prefix of its own for one test: "credmon-test:<random>:".
func NewPrefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "credmon-test:" + hex.EncodeToString(b[:]) + ":"
}

// freePort is a loopback port nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	// Held open together, so the n ports differ.
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// process is a server started by a test.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *bytes.Buffer // its output, for errors
	mu   sync.Mutex    // guards log while the process writes
	done chan struct{} // closed when it has exited
}

type lockedWriter struct {
	p *process
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.log.Write(b)
}

// Output is what the process printed so far.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// start runs bin with args in dir. The parent-death signal kills the
// server if the test binary dies without cleanup (a test timeout); it is
// sent when the starting thread exits, so that thread stays locked to the
// goroutine that waits for the server.
func start(name, dir, bin string, args ...string) (*process, error) {
	p := &process{name: name, log: &bytes.Buffer{}, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdout, cmd.Stderr = lockedWriter{p}, lockedWriter{p}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		p.cmd = cmd
		if err := cmd.Start(); err != nil {
			started <- err
			close(p.done)
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// kill sends SIGKILL and waits for the process to exit.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond every 20ms until it returns nil or timeout passes,
// then returns cond's last error.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error // the last answer, not the deadline that cut the poll short
	for {
		err := cond(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil || last == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not within %v: %w", what, timeout, last)
		case <-tick.C:
		}
	}
}

// quickClient is a client for the helpers' own polls: no retries, short
// timeouts, so a poll reports a dead server at once.
func quickClient(address string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: address, MaxRetries: -1, DialTimeout: 500 * time.Millisecond, Protocol: 2, DisableIdentity: true,
		ReadTimeout: time.Second, WriteTimeout: time.Second, PoolSize: 1,
	})
}

// servers is a group of processes under one temporary directory.
type servers struct {
	dir   string
	procs map[string]*process // by address
	args  map[string][]string // redis-server's arguments, by address, for a restart
}

func newServers() (*servers, error) {
	dir, err := os.MkdirTemp("", "credmon-redis-")
	if err != nil {
		return nil, err
	}
	return &servers{dir: dir, procs: map[string]*process{}, args: map[string][]string{}}, nil
}

// redisServer starts redis-server on a free port with args after the
// test defaults (loopback, no persistence) and waits until it answers.
func (s *servers) redisServer(ctx context.Context, port int, args ...string) (string, error) {
	a := addr(port)
	base := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", s.dir, "--logfile", ""}
	return a, s.run(ctx, a, append(base, args...))
}

func (s *servers) run(ctx context.Context, a string, args []string) error {
	p, err := start("redis-server "+a, s.dir, "redis-server", args...)
	if err != nil {
		return err
	}
	s.procs[a], s.args[a] = p, args
	return s.waitPing(ctx, a)
}

// restart starts the killed redis-server at a again, as it was started
// plus extra: empty, since nothing is persisted.
func (s *servers) restart(ctx context.Context, a string, extra ...string) error {
	p, ok := s.procs[a]
	if !ok || s.args[a] == nil {
		return fmt.Errorf("storetest: no redis-server of this group at %s", a)
	}
	if !p.exited() {
		return fmt.Errorf("storetest: %s is still running", a)
	}
	args := s.args[a]
	err := s.run(ctx, a, append(slices.Clone(args), extra...))
	s.args[a] = args
	return err
}

func (s *servers) waitPing(ctx context.Context, a string) error {
	c := quickClient(a)
	defer c.Close()
	p := s.procs[a]
	err := waitFor(ctx, startTimeout, p.name+" answers", func(ctx context.Context) error {
		if p.exited() {
			return errors.New("exited")
		}
		return c.Ping(ctx).Err()
	})
	if err != nil {
		return fmt.Errorf("%w; its output:\n%s", err, p.output())
	}
	return nil
}

// close kills every process and removes the directory.
func (s *servers) close() error {
	var wg sync.WaitGroup
	for _, p := range s.procs {
		wg.Go(p.kill)
	}
	wg.Wait()
	return os.RemoveAll(s.dir)
}

// path is a file in the group's directory.
func (s *servers) path(name string) string { return filepath.Join(s.dir, name) }

// startFor starts a server group for tb alone and stops it at cleanup.
func startFor[T interface{ Close() error }](tb testing.TB, start func(context.Context) (T, error), binaries ...string) T {
	tb.Helper()
	NeedBinaries(tb, binaries...)
	v, err := start(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := v.Close(); err != nil {
			tb.Errorf("stopping test redis servers: %v", err)
		}
	})
	return v
}

// Shared is a server group started once for every test of a package that
// asks for it (each under a prefix of its own), so a package's tests do not
// start one each. The package's TestMain closes it after m.Run.
type Shared[T interface{ Close() error }] struct {
	start    func(context.Context) (T, error)
	binaries []string
	once     sync.Once
	started  bool
	v        T
	err      error
}

// NewShared returns a Shared started by start, which needs binaries.
func NewShared[T interface{ Close() error }](start func(context.Context) (T, error), binaries ...string) *Shared[T] {
	return &Shared[T]{start: start, binaries: binaries}
}

// Get starts the group on first use and returns it; without the binaries
// tb is skipped (failed under CI=true), and a failed start fails every
// test that asks.
func (s *Shared[T]) Get(tb testing.TB) T {
	tb.Helper()
	NeedBinaries(tb, s.binaries...)
	s.once.Do(func() {
		s.v, s.err = s.start(context.Background())
		s.started = s.err == nil
	})
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.v
}

// Close stops the group if it was started.
func (s *Shared[T]) Close() error {
	if !s.started {
		return nil
	}
	return s.v.Close()
}
