package redisstore

import (
	"context"
	"fmt"
	"strings"
)

// Ping checks that Redis answers: the cheap call a health probe makes
// (store/fallback uses it to notice Redis coming back). With WaitReplicas
// set, Redis is only back once enough replicas are online again: until
// then every guarded write would fail, and a probe that said "up" would
// flip the fallback back and forth.
func (s *Store) Ping(ctx context.Context) error {
	if s.waitReplicas <= 0 {
		if err := s.client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("redisstore: ping: %w", err)
		}
		return nil
	}
	info, err := s.client.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	if n := onlineReplicas(info); n < s.waitReplicas {
		return fmt.Errorf("redisstore: ping: %w: %d of %d replica(s) online", ErrNotReplicated, n, s.waitReplicas)
	}
	return nil
}

// onlineReplicas counts the "slaveN:…,state=online,…" lines of INFO
// replication: replicas in sync, not those still loading a full copy.
func onlineReplicas(info string) int {
	n := 0
	for line := range strings.Lines(info) {
		if strings.HasPrefix(line, "slave") && strings.Contains(line, ",state=online,") {
			n++
		}
	}
	return n
}
