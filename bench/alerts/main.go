// Command alerts measures alert delivery under failure: a Slack outage
// (500s, then 429 with Retry-After, then recovery), a replica SIGKILLed
// while it holds outbox leases, and a Redis outage under several replicas
// of the daemon while incidents open and resolve (-scenario redis). Both run against a loopback fake Slack and
// the real Slack notifier, Dispatcher and Redis outbox, and print tables.
//
//	go run ./bench/alerts -outage 60s -ratelimit 10s -retry-after 3s -incidents 5
//	go run ./bench/alerts -scenario kill -lease 10s
//	go run ./bench/alerts -store memory -scenario outage -outage 5s -ratelimit 3s
//	go run ./bench/alerts -scenario redis -replicas 3 -redis-down 30s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// botToken is what the fake Slack demands and the notifier sends.
const botToken = "xoxb-FAKE-bench-alerts-0000"

// channel is where every message goes; the fake answers with C1.
const channel = "#prod-credentials"

type options struct {
	scenario   string        // outage, kill, redis or all
	replicas   int           // the redis scenario's daemons
	redisDown  time.Duration // how long the redis scenario's Redis is away
	grace      time.Duration // the daemons' probing grace; 0 is the default
	storeKind  string        // redis or memory
	redisURL   string
	outage     time.Duration
	rateLimit  time.Duration
	retryAfter time.Duration
	incidents  int
	lease      time.Duration
	poll       time.Duration
	timeout    time.Duration
	verbose    bool

	// The child replica's part (-role dispatcher).
	role      string
	prefix    string
	slackAPI  string
	replicaID string
}

func main() { os.Exit(run()) }

func run() int {
	var o options
	defaultRedis := os.Getenv("REDIS_URL")
	if defaultRedis == "" {
		defaultRedis = "redis://127.0.0.1:6379/0"
	}
	flag.StringVar(&o.scenario, "scenario", "all", "outage, kill, redis or all")
	flag.IntVar(&o.replicas, "replicas", 3, "daemons of the redis scenario")
	flag.DurationVar(&o.redisDown, "redis-down", 30*time.Second, "how long the redis scenario's Redis is away")
	flag.DurationVar(&o.grace, "grace", 0, "the daemons' probing grace during an outage (0: the default, 1m)")
	flag.StringVar(&o.storeKind, "store", "redis", "outbox for the outage scenario: redis or memory (kill needs redis)")
	flag.StringVar(&o.redisURL, "redis", defaultRedis, "Redis URL (env REDIS_URL)")
	flag.DurationVar(&o.outage, "outage", 60*time.Second, "how long Slack answers 500")
	flag.DurationVar(&o.rateLimit, "ratelimit", 10*time.Second, "how long Slack then answers 429")
	flag.DurationVar(&o.retryAfter, "retry-after", 3*time.Second, "the Retry-After of those 429s (whole seconds)")
	flag.IntVar(&o.incidents, "incidents", 5, "incidents, four messages each (opened, reminder, cause_changed, resolved)")
	flag.DurationVar(&o.lease, "lease", 10*time.Second, "outbox lease of every dispatcher")
	flag.DurationVar(&o.poll, "poll", time.Second, "dispatcher poll interval")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "bound of each scenario")
	flag.BoolVar(&o.verbose, "v", false, "dispatcher and notifier logs to stderr")
	flag.StringVar(&o.role, "role", "", "internal: dispatcher runs the replica the kill scenario re-executes")
	flag.StringVar(&o.prefix, "prefix", "", "internal: the child's Redis key prefix")
	flag.StringVar(&o.slackAPI, "slack-api", "", "internal: the child's Slack API URL")
	flag.StringVar(&o.replicaID, "replica", "", "internal: the child's replica name")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.role == "dispatcher" {
		if err := runChild(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "alerts child:", err)
			return 1
		}
		return 0
	}
	if err := Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "alerts:", err)
		return 1
	}
	return 0
}

// errFailed is returned when a scenario ran but a promise did not hold;
// the tables say which.
var errFailed = errors.New("delivery guarantees violated (see above)")

// Run runs the selected scenarios and prints their reports.
func Run(ctx context.Context, o options) error {
	if o.incidents < 1 {
		return errors.New("-incidents must be at least 1")
	}
	if o.storeKind != "redis" && o.storeKind != "memory" {
		return fmt.Errorf("-store %q: want redis or memory", o.storeKind)
	}
	var failed bool
	switch o.scenario {
	case "outage", "kill", "redis", "all":
	default:
		return fmt.Errorf("-scenario %q: want outage, kill, redis or all", o.scenario)
	}
	if o.scenario == "outage" || o.scenario == "all" {
		ok, err := runOutage(ctx, o)
		if err != nil {
			return fmt.Errorf("outage: %w", err)
		}
		failed = failed || !ok
	}
	if o.scenario == "kill" || o.scenario == "all" {
		if o.scenario == "all" {
			fmt.Println()
		}
		ok, err := runKill(ctx, o)
		if err != nil {
			return fmt.Errorf("kill: %w", err)
		}
		failed = failed || !ok
	}
	if o.scenario == "redis" || o.scenario == "all" {
		if o.scenario == "all" {
			fmt.Println()
		}
		ok, err := runRedisOutage(ctx, o)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		failed = failed || !ok
	}
	if failed {
		return errFailed
	}
	return nil
}
