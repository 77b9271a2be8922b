package storetest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of three masters (no replicas) on loopback
// ports, child processes of the test.
type Cluster struct {
	Addrs []string      // the nodes, host:port
	Ready time.Duration // from the first start until every node said cluster_state:ok
	srv   *servers
}

// StartCluster starts a Cluster for tb and kills it at cleanup. Without
// redis-server and redis-cli the test is skipped (failed under CI=true).
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	return startFor(tb, NewCluster, "redis-server", "redis-cli")
}

// NewCluster starts a Cluster; the caller closes it. It assumes the
// binaries are installed (see NeedBinaries).
func NewCluster(ctx context.Context) (*Cluster, error) {
	began := time.Now()
	srv, err := newServers()
	if err != nil {
		return nil, err
	}
	c := &Cluster{srv: srv}
	fail := func(err error) (*Cluster, error) {
		c.Close()
		return nil, fmt.Errorf("storetest: starting a redis cluster: %w", err)
	}
	ports, err := freePorts(3)
	if err != nil {
		return fail(err)
	}
	for _, port := range ports {
		a, err := srv.redisServer(ctx, port, "--cluster-enabled", "yes",
			"--cluster-config-file", srv.path("nodes-"+strconv.Itoa(port)+".conf"),
			"--cluster-node-timeout", "2000")
		if err != nil {
			return fail(err)
		}
		c.Addrs = append(c.Addrs, a)
	}
	cctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(cctx, "redis-cli", args...).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out))
	}
	for _, a := range c.Addrs {
		if err := waitClusterOK(ctx, a); err != nil {
			return fail(err)
		}
	}
	c.Ready = time.Since(began)
	return c, nil
}

// waitClusterOK polls CLUSTER INFO on one node until it says
// cluster_state:ok with all three nodes known.
func waitClusterOK(ctx context.Context, a string) error {
	client := quickClient(a)
	defer client.Close()
	return waitFor(ctx, startTimeout, "cluster_state:ok on "+a, func(ctx context.Context) error {
		info, err := client.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:3") {
			return fmt.Errorf("cluster info: %s", strings.Join(strings.Fields(info), " "))
		}
		return nil
	})
}

// Close kills the nodes and removes their files.
func (c *Cluster) Close() error { return c.srv.close() }
