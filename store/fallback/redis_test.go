package fallback_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// redisServer is a redis-server of the test's own, so the test can kill it.
type redisServer struct {
	bin  string
	port int
	cmd  *exec.Cmd
}

func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found (CI=true requires it): %v", err)
		}
		t.Skipf("redis-server not found, skipping (install redis; with CI=true this fails): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &redisServer{bin: bin, port: port}
	t.Cleanup(r.kill)
	r.start(t)
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) }

// start runs the server and waits (bounded) until it answers.
func (r *redisServer) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.Ping(t.Context()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not answer within 5s", r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freeze stops the server without ending it (SIGSTOP): connections hang,
// as across a network partition, and its data stays.
func (r *redisServer) freeze(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Signal(syscall.SIGCONT) })
}

// thaw resumes a frozen server.
func (r *redisServer) thaw(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// TestRedisOutage kills a real Redis under the store and brings it back:
// claims are granted locally meanwhile, and what was enqueued and
// recorded during the outage reaches the new Redis.
func TestRedisOutage(t *testing.T) {
	srv := newRedisServer(t)
	ctx := t.Context()
	const prefix = "credmon-test:"
	primary, err := redisstore.Open(ctx, redisstore.Options{URL: srv.url(), KeyPrefix: prefix, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	changes := newChanges()
	s := fallback.New(primary, memstore.New(), fallback.Options{
		ProbeEvery: 100 * time.Millisecond, OnChange: changes.record, Logger: discard,
		Unreachable: redisstore.Unreachable, // as the daemon builds it
	})
	t.Cleanup(func() { s.Close() })
	s.Start(ctx)

	const tick = "tick:prod/api:1741944360"
	if ok, err := s.Claim(ctx, tick, "replica-a", time.Minute); !ok || err != nil {
		t.Fatalf("Claim with Redis up = %v, %v", ok, err)
	}
	if ok, err := s.Claim(ctx, tick, "replica-b", time.Minute); ok || err != nil {
		t.Fatalf("second owner's Claim with Redis up = %v, %v; want refused by Redis", ok, err)
	}

	srv.kill()
	if up := changes.wait(t); up || s.Healthy() {
		t.Fatalf("after the kill: change up=%v, Healthy=%v; want down", up, s.Healthy())
	}
	// Redis held replica-a's claim; with Redis gone this replica probes on
	// its own.
	if ok, err := s.Claim(ctx, tick, "replica-b", time.Minute); !ok || err != nil {
		t.Fatalf("Claim during the outage = %v, %v; want granted locally", ok, err)
	}
	a1, a2 := storetest.Entry("incident-a", 1), storetest.Entry("incident-a", 2)
	for _, e := range []store.OutboxEntry{a1, a2} {
		if err := s.Enqueue(ctx, e); err != nil {
			t.Fatalf("Enqueue during the outage: %v", err)
		}
	}
	r := storetest.Result("prod", "api", 0)
	if err := s.PutResult(ctx, r); err != nil {
		t.Fatalf("PutResult during the outage: %v", err)
	}

	srv.start(t) // same port, empty
	if up := changes.wait(t); !up || !s.Healthy() {
		t.Fatalf("after the restart: change up=%v, Healthy=%v; want up", up, s.Healthy())
	}

	// Read the new Redis through a store of its own, not the wrapper.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(srv.port)})
	t.Cleanup(func() { client.Close() })
	direct := redisstore.New(client, prefix)
	if n, err := direct.Depth(ctx); n != 2 || err != nil {
		t.Errorf("Redis outbox depth after recovery = %d, %v; want the 2 entries from the outage", n, err)
	}
	es, err := direct.Lease(ctx, "notifier", 10, time.Minute)
	if err != nil || len(es) != 1 || es[0].ID != a1.ID || string(es[0].Payload) != string(a1.Payload) {
		t.Errorf("first lease from Redis = %+v, %v; want %s (the group's head)", es, err, a1.ID)
	}
	if got, err := direct.RecentResults(ctx, r.Key(), 10); err != nil || len(got) != 1 || got[0].Detail != r.Detail {
		t.Errorf("Redis results after recovery = %+v, %v; want the outage's result", got, err)
	}
	// Claims are Redis's again.
	if ok, err := s.Claim(ctx, "tick:prod/api:1741944420", "replica-a", time.Minute); !ok || err != nil {
		t.Errorf("Claim after recovery = %v, %v", ok, err)
	}
	if ok, err := direct.Claim(ctx, "tick:prod/api:1741944420", "replica-c", time.Minute); ok || err != nil {
		t.Errorf("another replica's Claim after recovery = %v, %v; want refused (the wrapper claimed in Redis)", ok, err)
	}
	if err := s.Stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Stop: %v", err)
	}
}
