package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replication is asynchronous: a master acknowledges a write before its
// replicas have it, and a failover promotes a replica that may lack the
// last writes — during a planned SENTINEL FAILOVER the old master even
// keeps accepting writes until it is demoted, all of them discarded. For
// the outbox and the KV (incident state, tokens) that means a lease, an
// Ack or an incident's state undone: a message sent twice or not at all.
// Options.WaitReplicas closes that gap: each such write is followed by
// WAIT on the same connection and counts only once enough replicas have
// it, so a replica promoted later has it too.

// ErrNotReplicated is a write the master took but too few replicas
// confirmed in time: a failover may undo it. Unreachable counts it as an
// outage, and the caller retries (every write it guards is safe to repeat).
var ErrNotReplicated = errors.New("redisstore: write not confirmed by the replicas")

// defaultWaitTimeout is how long a write waits for its replicas when
// Options.WaitTimeout is unset.
const defaultWaitTimeout = 500 * time.Millisecond

// script runs a script that changes shared state, confirmed by the
// replicas when WaitReplicas is set.
func (s *Store) script(ctx context.Context, sc *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.waitReplicas <= 0 {
		return sc.Run(ctx, s.client, keys, args...)
	}
	cmd := s.replicated(ctx, func(p redis.Pipeliner) *redis.Cmd { return sc.EvalSha(ctx, p, keys, args...) })
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd = s.replicated(ctx, func(p redis.Pipeliner) *redis.Cmd { return sc.Eval(ctx, p, keys, args...) })
	}
	return cmd
}

// replicated runs one write and WAIT after it in one pipeline: WAIT
// counts the replicas that have this connection's writes, so both must
// travel on the same connection. Only for a store with WaitReplicas set.
func (s *Store) replicated(ctx context.Context, write func(p redis.Pipeliner) *redis.Cmd) *redis.Cmd {
	var cmd *redis.Cmd
	var wait *redis.Cmd
	// Each command's own error is read below.
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmd = write(p)
		// Pipeliner has no Wait; the pipeline's read timeout (the
		// command timeout) covers this one, which checkWait ensures.
		wait = p.Do(ctx, "wait", s.waitReplicas, s.waitTimeout.Milliseconds())
		return nil
	})
	if cmd.Err() != nil {
		return cmd
	}
	switch n, err := wait.Int64(); {
	case err != nil:
		cmd.SetErr(fmt.Errorf("waiting for %d replica(s): %w", s.waitReplicas, err))
	case n < int64(s.waitReplicas):
		cmd.SetErr(fmt.Errorf("%w: %d of %d replica(s) within %v", ErrNotReplicated, n, s.waitReplicas, s.waitTimeout))
	}
	return cmd
}
