package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master name the test sentinels monitor.
const SentinelMaster = "credmon-test"

// Sentinel timings: short, so a failover takes seconds. A sentinel
// declares the master down after downAfter without a reply; failoverTimeout
// bounds one failover attempt before another sentinel may try.
const (
	downAfter       = 1000 * time.Millisecond
	failoverTimeout = 3000 * time.Millisecond
)

// Sentinel is a Redis master, one replica and three sentinels (quorum 2)
// on loopback ports, child processes of the test.
type Sentinel struct {
	MasterName string
	Sentinels  []string      // the sentinels, host:port
	Data       []string      // the master and the replica as started, host:port
	Ready      time.Duration // from the first start until the sentinels agreed and the replica synced
	srv        *servers
}

// StartSentinel starts a Sentinel group for tb and kills it at cleanup.
// Without redis-server the test is skipped (failed under CI=true). The
// sentinels run as redis-sentinel when it is installed, else as
// redis-server --sentinel (the same program).
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	return startFor(tb, NewSentinel, "redis-server")
}

// NewSentinel starts a Sentinel group; the caller closes it.
func NewSentinel(ctx context.Context) (*Sentinel, error) {
	began := time.Now()
	srv, err := newServers()
	if err != nil {
		return nil, err
	}
	s := &Sentinel{MasterName: SentinelMaster, srv: srv}
	fail := func(err error) (*Sentinel, error) {
		s.Close()
		return nil, fmt.Errorf("storetest: starting a sentinel group: %w", err)
	}
	ports, err := freePorts(5)
	if err != nil {
		return fail(err)
	}
	// Without a delay for diskless sync (default 5s, to gather replicas
	// that connect together), the replica syncs at once; either server
	// may be the master after a failover.
	noDelay := []string{"--repl-diskless-sync-delay", "0"}
	master, err := srv.redisServer(ctx, ports[0], noDelay...)
	if err != nil {
		return fail(err)
	}
	replica, err := srv.redisServer(ctx, ports[1], append(noDelay, "--replicaof", "127.0.0.1", strconv.Itoa(ports[0]))...)
	if err != nil {
		return fail(err)
	}
	s.Data = []string{master, replica}
	if err := waitInSync(ctx, replica); err != nil {
		return fail(err)
	}
	for _, port := range ports[2:] {
		a, err := s.startSentinel(ctx, port, ports[0])
		if err != nil {
			return fail(err)
		}
		s.Sentinels = append(s.Sentinels, a)
	}
	if err := s.waitAgreed(ctx); err != nil {
		return fail(err)
	}
	s.Ready = time.Since(began)
	return s, nil
}

func (s *Sentinel) startSentinel(ctx context.Context, port, masterPort int) (string, error) {
	a := addr(port)
	conf := s.srv.path("sentinel-" + strconv.Itoa(port) + ".conf")
	// A sentinel rewrites its file (epochs, known peers), so each has its own.
	text := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
dir %s
logfile ""
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, port, s.srv.dir, s.MasterName, masterPort, s.MasterName, downAfter.Milliseconds(),
		s.MasterName, failoverTimeout.Milliseconds(), s.MasterName)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return "", err
	}
	bin, args := "redis-server", []string{conf, "--sentinel"}
	if _, err := exec.LookPath("redis-sentinel"); err == nil {
		bin, args = "redis-sentinel", []string{conf}
	}
	p, err := start(bin+" "+a, s.srv.dir, bin, args...)
	if err != nil {
		return "", err
	}
	s.srv.procs[a] = p
	return a, s.srv.waitPing(ctx, a)
}

// waitInSync waits until replica's link to its master is up and it has
// loaded the master's data.
func waitInSync(ctx context.Context, replica string) error {
	c := quickClient(replica)
	defer c.Close()
	return waitFor(ctx, startTimeout, replica+" in sync", func(ctx context.Context) error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") || strings.Contains(info, "master_sync_in_progress:1") {
			return errors.New(strings.Join(strings.Fields(info), " "))
		}
		return nil
	})
}

// waitAgreed waits until every sentinel names the same master, one of
// Data, knows the other as an up replica, and knows the other two
// sentinels (needed to elect a leader when the master dies); Data is
// then the master first. On a loaded machine a sentinel may take the
// master for down (downAfter is short) and fail over while the group
// starts: a group that agreed on the other server is as good.
func (s *Sentinel) waitAgreed(ctx context.Context) error {
	return waitFor(ctx, startTimeout, "sentinels agree", func(ctx context.Context) error {
		var master string
		for _, a := range s.Sentinels {
			m, err := s.agreed(ctx, a)
			if err != nil {
				return fmt.Errorf("sentinel %s: %w", a, err)
			}
			if master != "" && m != master {
				return fmt.Errorf("sentinel %s names master %s, another %s", a, m, master)
			}
			master = m
		}
		if s.Data[0] != master {
			s.Data[0], s.Data[1] = s.Data[1], s.Data[0]
		}
		return nil
	})
}

// agreed is the master sentinel a names, once it knows the other of Data
// as an up replica and the other sentinels.
func (s *Sentinel) agreed(ctx context.Context, a string) (string, error) {
	c := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	defer c.Close()
	got, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", err
	}
	master := strings.Join(got, ":")
	if !slices.Contains(s.Data, master) {
		return "", fmt.Errorf("names master %s, none of %v", master, s.Data)
	}
	replica := s.Data[0]
	if replica == master {
		replica = s.Data[1]
	}
	replicas, err := c.Replicas(ctx, s.MasterName).Result()
	if err != nil {
		return "", err
	}
	if !slices.ContainsFunc(replicas, func(r map[string]string) bool {
		return r["ip"]+":"+r["port"] == replica && !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected")
	}) {
		return "", fmt.Errorf("does not know replica %s as up: %v", replica, replicas)
	}
	peers, err := c.Sentinels(ctx, s.MasterName).Result()
	if err != nil {
		return "", err
	}
	if len(peers) != len(s.Sentinels)-1 {
		return "", fmt.Errorf("knows %d other sentinels, want %d", len(peers), len(s.Sentinels)-1)
	}
	return master, nil
}

// Master is the master's address as the first sentinel that answers
// names it.
func (s *Sentinel) Master(ctx context.Context) (string, error) {
	var errs []error
	for _, a := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
		got, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
		c.Close()
		if err == nil {
			return strings.Join(got, ":"), nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

// Failover asks a sentinel for a planned failover (SENTINEL FAILOVER).
func (s *Sentinel) Failover(ctx context.Context) error {
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0], MaxRetries: -1})
	defer c.Close()
	return c.Failover(ctx, s.MasterName).Err()
}

// Kill sends SIGKILL to the server at a and waits until it is gone.
func (s *Sentinel) Kill(a string) error {
	p, ok := s.srv.procs[a]
	if !ok {
		return fmt.Errorf("storetest: no server of this group at %s", a)
	}
	p.kill()
	return nil
}

// Restart starts the killed server at a again, empty, as a replica of the
// master the sentinels name — as a restarted pod comes back in the usual
// Kubernetes charts. (Started as a master instead, it would wait for a
// sentinel to convert it, up to 10s.) It returns once it is in sync.
func (s *Sentinel) Restart(ctx context.Context, a string) error {
	master, err := s.Master(ctx)
	if err != nil {
		return err
	}
	host, port, _ := strings.Cut(master, ":")
	if err := s.srv.restart(ctx, a, "--replicaof", host, port); err != nil {
		return err
	}
	return waitInSync(ctx, a)
}

// WaitNewMaster waits until every sentinel names a master other than old
// and that server answers as a master; it returns its address.
func (s *Sentinel) WaitNewMaster(ctx context.Context, old string) (string, error) {
	var now string
	// Twice the start's bound: a planned failover was seen to take 28s
	// once on a loaded machine (a sentinel retrying after failover-timeout).
	err := waitFor(ctx, 2*startTimeout, "a new master", func(ctx context.Context) error {
		seen := map[string]bool{}
		for _, a := range s.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
			got, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
			c.Close()
			if err != nil {
				return err
			}
			seen[strings.Join(got, ":")] = true
		}
		if len(seen) != 1 || seen[old] {
			return fmt.Errorf("sentinels name %v", seen)
		}
		for m := range seen {
			now = m
		}
		c := quickClient(now)
		defer c.Close()
		role, err := c.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("%s has role %v", now, role)
		}
		return nil
	})
	return now, err
}

// Close kills every server and removes their files.
func (s *Sentinel) Close() error { return s.srv.close() }
