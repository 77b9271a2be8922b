package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/notify/slack"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
)

// outboxStore is what delivery needs of a store: the outbox, and the KV
// that keeps incident threads.
type outboxStore interface {
	store.Outbox
	store.KV
}

// openStore returns the outbox the scenario runs on and a cleanup that
// deletes every key it wrote. prefix "" makes a fresh one.
func openStore(ctx context.Context, kind, redisURL, prefix string) (outboxStore, string, func(), error) {
	if kind == "memory" {
		return memstore.New(), "", func() {}, nil
	}
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, "", nil, fmt.Errorf("-redis %s: %w", redisstore.RedactURL(redisURL), err)
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, "", nil, fmt.Errorf("redis at %s does not answer (start one, set -redis, or use -store memory): %w", opts.Addr, err)
	}
	if prefix == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix = "credmon-bench:alerts:" + hex.EncodeToString(b[:]) + ":"
	}
	cleanup := func() {
		// A fresh context: the run's own may be cancelled by now.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, client, prefix); err != nil {
			fmt.Fprintf(os.Stderr, "alerts: cleaning up redis keys %s*: %v\n", prefix, err)
		}
		client.Close()
	}
	return redisstore.New(client, prefix), prefix, cleanup, nil
}

func deletePrefix(ctx context.Context, client *redis.Client, prefix string) error {
	iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		if err := client.Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// newNotifier is the real Slack notifier in bot mode, pointed at apiURL,
// keeping threads in kv. transport is nil or marks a replica's requests.
func newNotifier(apiURL string, kv store.KV, transport http.RoundTripper, log *slog.Logger) (*slack.Notifier, error) {
	return slack.New(slack.Options{
		BotToken:   botToken,
		Channel:    channel,
		APIURL:     apiURL,
		Threads:    slack.KVThreads(kv),
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: transport},
		Logger:     log,
	})
}

func logger(verbose bool) *slog.Logger {
	if verbose {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
