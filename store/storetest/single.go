package storetest

import (
	"context"
	"syscall"
	"testing"
)

// RedisServer is one redis-server of a test's own, without persistence,
// for tests that take Redis away: killed and restarted empty on the same
// port, or frozen (SIGSTOP) as across a network partition and thawed with
// its data.
type RedisServer struct {
	srv  *servers
	addr string
}

// StartRedisServer starts a redis-server on a free loopback port for tb
// alone and kills it at cleanup. It skips (fails under CI=true) when
// redis-server is not installed.
func StartRedisServer(tb testing.TB) *RedisServer {
	tb.Helper()
	return startFor(tb, NewRedisServer, "redis-server")
}

// NewRedisServer starts a redis-server on a free loopback port; Close
// kills it. For programs (the benchmarks) that are not tests.
func NewRedisServer(ctx context.Context) (*RedisServer, error) {
	s, err := newServers()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	a, err := s.redisServer(ctx, port)
	if err != nil {
		s.close()
		return nil, err
	}
	return &RedisServer{srv: s, addr: a}, nil
}

// Addr is host:port.
func (r *RedisServer) Addr() string { return r.addr }

// URL is redis://host:port.
func (r *RedisServer) URL() string { return "redis://" + r.addr }

// Kill ends the server with SIGKILL and waits for it: its data is gone.
func (r *RedisServer) Kill() { r.srv.procs[r.addr].kill() }

// Restart starts the killed server again on the same port, empty.
func (r *RedisServer) Restart(ctx context.Context) error { return r.srv.restart(ctx, r.addr) }

// Freeze stops the server without ending it (SIGSTOP): connections hang
// and its data stays. Thaw resumes it.
func (r *RedisServer) Freeze() error {
	return r.srv.procs[r.addr].cmd.Process.Signal(syscall.SIGSTOP)
}

// Thaw resumes a frozen server.
func (r *RedisServer) Thaw() error {
	return r.srv.procs[r.addr].cmd.Process.Signal(syscall.SIGCONT)
}

// Close kills the server and removes its directory; a frozen server is
// killed too.
func (r *RedisServer) Close() error { return r.srv.close() }
