package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// replyError is a Redis error reply, as go-redis types them.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestUnreachable(t *testing.T) {
	// A real error reply: an answer, not an outage.
	client, prefix := storetest.Redis(t)
	ctx := context.Background()
	if err := client.Set(ctx, prefix+"str", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	wrongType := client.LPush(ctx, prefix+"str", "x").Err()
	if wrongType == nil || !redis.HasErrorPrefix(wrongType, "WRONGTYPE") {
		t.Fatalf("LPUSH on a string = %v; want a WRONGTYPE reply", wrongType)
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("redisstore: get %q: %w", "k", store.ErrNotFound), false},
		{context.Canceled, false},
		{redis.ErrClosed, false},
		{wrongType, false},
		{redis.ErrPoolTimeout, true},
		{fmt.Errorf("redisstore: claim: %w", replyError("LOADING Redis is loading the dataset in memory")), true},
		{replyError("READONLY You can't write against a read only replica."), true},
		{replyError("ERR CLUSTERDOWN The cluster is down"), true},
		{fmt.Errorf("redisstore: ack: %w", redisstore.ErrNotReplicated), true},
		{replyError("MOVED 3999 127.0.0.1:6381"), true},
		{replyError("ASK 3999 127.0.0.1:6381"), true},
		{replyError("NOREPLICAS Not enough good replicas to write."), true},
		{replyError("ERR unknown command 'ASKING'"), false},
		// What fallback.Unreachable knows, redisstore.Unreachable keeps.
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{errors.New("some other failure"), false},
	} {
		if got := redisstore.Unreachable(tc.err); got != tc.want {
			t.Errorf("Unreachable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestUncertain(t *testing.T) {
	// Of the outage errors: which calls may still have been carried out.
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{redis.ErrPoolTimeout, false}, // never sent
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, false},
		{fmt.Errorf("redisstore: enqueue: %w", syscall.ECONNREFUSED), false},
		{fmt.Errorf("redisstore: enqueue: %w", replyError("READONLY You can't write against a read only replica.")), false},
		{replyError("LOADING Redis is loading the dataset in memory"), false},
		{replyError("NOREPLICAS Not enough good replicas to write."), false},
		{fmt.Errorf("redisstore: enqueue outbox entry x: %w", redisstore.ErrNotReplicated), true}, // the master took it
		{context.DeadlineExceeded, true},                                                          // sent, no answer in time
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{fmt.Errorf("redisstore: enqueue: %w", io.EOF), true},
	} {
		if got := redisstore.Uncertain(tc.err); got != tc.want {
			t.Errorf("Uncertain(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
