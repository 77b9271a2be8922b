package redisstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// A standalone Redis has no replica to confirm a write: with WaitReplicas
// every guarded write says so within WaitTimeout, as an outage.
func TestWaitReplicasWithoutReplica(t *testing.T) {
	client, prefix, addr := serverAddr(t)
	s, err := redisstore.Open(t.Context(), redisstore.Options{
		URL: "redis://" + addr, KeyPrefix: prefix, WaitReplicas: 1, WaitTimeout: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for name, write := range map[string]func() error{
		"set":     func() error { return s.Set(ctx, "k", []byte("v"), 0) },
		"cas":     func() error { _, err := s.CompareAndSwap(ctx, "c", nil, []byte("v"), 0); return err },
		"enqueue": func() error { return s.Enqueue(ctx, storetest.Entry("g", 0)) },
		"lease":   func() error { _, err := s.Lease(ctx, "replica-a", 1, time.Minute); return err },
	} {
		err := write()
		if !errors.Is(err, redisstore.ErrNotReplicated) || !redisstore.Unreachable(err) {
			t.Errorf("%s: err = %v; want ErrNotReplicated, counted as an outage", name, err)
		}
	}
	// Reads are not guarded, and the master did take the write: WAIT
	// cannot undo it, only say a failover could.
	if got, err := client.Get(ctx, prefix+"kv:k").Result(); err != nil || got != "v" {
		t.Errorf("kv:k = %q, %v; want v", got, err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Errorf("Get: %v", err)
	}
	// Nor is Redis "back" for the fallback's probe while no replica is.
	if err := s.Ping(ctx); !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Errorf("Ping = %v, want ErrNotReplicated", err)
	}
}

func TestWaitReplicasOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		opts redisstore.Options
		want string
	}{
		"cluster":                 {redisstore.Options{Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, WaitReplicas: 1}, "not Cluster"},
		"negative":                {redisstore.Options{URL: "redis://127.0.0.1:1", WaitReplicas: -1}, "must not be negative"},
		"timeout":                 {redisstore.Options{URL: "redis://127.0.0.1:1", WaitReplicas: 1, WaitTimeout: time.Second, CommandTimeout: time.Second}, "below the command timeout"},
		"default command timeout": {redisstore.Options{URL: "redis://127.0.0.1:1", WaitReplicas: 1, WaitTimeout: 3 * time.Second}, "below the command timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := redisstore.Dial(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	for name, opts := range map[string]redisstore.Options{
		"sentinel": {Addrs: []string{"127.0.0.1:1"}, MasterName: "m", WaitReplicas: 1},
		"url":      {URL: "redis://127.0.0.1:1", WaitReplicas: 2, WaitTimeout: time.Second},
	} {
		s, err := redisstore.Dial(opts)
		if err != nil {
			t.Errorf("%s: Dial: %v", name, err)
			continue
		}
		s.Close()
	}
}
