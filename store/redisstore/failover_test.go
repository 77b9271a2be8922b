package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/fallback"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
	"github.com/credmon/credmon/store/storetest"
)

// countingNotifier is the notifier both replicas deliver to: it counts
// deliveries per message ID.
type countingNotifier struct {
	mu    sync.Mutex
	count map[string]int
}

func (c *countingNotifier) Name() string { return "recorder" }

func (c *countingNotifier) Notify(_ context.Context, m notify.Message) (bool, error) {
	// A notifier's latency, so that deliveries are in flight when the
	// master goes: their Acks are the ones a failover can lose.
	time.Sleep(10 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.count[m.ID]++
	return false, nil
}

func (c *countingNotifier) delivered(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[id]
}

// logBuffer collects both dispatchers' logs, for counting and for a
// failure's explanation.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const failoverLease = 8 * time.Second

// failoverRun is what one failover did, for the test's log.
type failoverRun struct {
	enqueued      []string      // message IDs whose Enqueue returned nil, in order
	enqueueErrors int           // Enqueue calls that failed and were retried
	newMaster     time.Duration // from the trigger until every sentinel named the new master
	longestGap    time.Duration // longest wait between two successful Enqueues
	recovered     time.Duration // from the trigger until the old master was back as a replica in sync
}

// TestSentinelFailover: two replicas' dispatchers share one outbox through
// Sentinel while messages are enqueued without pause; the master is failed
// over mid-delivery. Every message whose Enqueue succeeded must reach the
// notifier exactly once.
//
// Writes wait for the replica (WaitReplicas 1). Without that, a planned
// failover sends messages twice: the old master takes leases and Acks
// until it is demoted, and they are discarded when it resyncs.
func TestSentinelFailover(t *testing.T) {
	t.Run("Planned", func(t *testing.T) {
		t.Parallel()
		testFailover(t, func(ctx context.Context, sg *storetest.Sentinel, master string) error {
			return sg.Failover(ctx)
		}, nil)
	})
	// The killed master comes back empty, as a restarted pod would, and
	// the sentinels make it the new master's replica. Until then the new
	// master has no replica to confirm writes, so the outbox waits.
	t.Run("MasterKilled", func(t *testing.T) {
		t.Parallel()
		testFailover(t, func(ctx context.Context, sg *storetest.Sentinel, master string) error {
			return sg.Kill(master)
		}, func(ctx context.Context, sg *storetest.Sentinel, old string) error {
			return sg.Restart(ctx, old)
		})
	})
}

type failoverStep func(ctx context.Context, sg *storetest.Sentinel, master string) error

// testFailover runs the failover with the dispatchers on the driver, and
// on store/fallback over it as the daemon runs them. Through the fallback
// an Enqueue the old master took but no replica confirmed
// (ErrNotReplicated) is also kept locally; the fallback holds that copy
// (Options.UncertainHold) and moves it into the new master, where the
// delivered set (store.DeliveredKept) stops it going out twice.
func testFailover(t *testing.T, trigger, recover failoverStep) {
	for _, through := range []string{"redisstore", "fallback"} {
		t.Run(through, func(t *testing.T) {
			// Each has servers of its own, and mostly waits on them.
			t.Parallel()
			testFailoverThrough(t, through == "fallback", trigger, recover)
		})
	}
}

func testFailoverThrough(t *testing.T, throughFallback bool, trigger, recover failoverStep) {
	sg := storetest.StartSentinel(t)
	opts := redisstore.Options{
		Addrs: sg.Sentinels, MasterName: sg.MasterName, KeyPrefix: storetest.NewPrefix(),
		DialTimeout: time.Second, CommandTimeout: time.Second, WaitReplicas: 1,
	}
	stores := []opened{mustOpen(t, opts), mustOpen(t, opts)}
	for _, s := range stores {
		t.Cleanup(func() { s.Close() })
	}
	rec := &countingNotifier{count: map[string]int{}}
	logs := &logBuffer{}
	outboxes := []store.Store{stores[0], stores[1]}
	if throughFallback {
		// As the daemon runs it: a local store takes over while Redis is
		// unreachable, and is caught up into it when it answers.
		for i := range outboxes {
			fb := fallback.New(stores[i], memstore.New(), fallback.Options{
				ProbeEvery: 100 * time.Millisecond, Unreachable: redisstore.Unreachable, Uncertain: redisstore.Uncertain,
				Logger: slog.New(slog.NewTextHandler(logs, nil)).With("fallback", i),
			})
			fb.Start(context.Background())
			t.Cleanup(func() { fb.Stop() })
			outboxes[i] = fb
		}
	}
	var ds []*notify.Dispatcher
	for i, owner := range []string{"replica-a", "replica-b"} {
		ds = append(ds, notify.NewDispatcher(outboxes[i], []notify.Notifier{rec}, notify.DispatcherOptions{
			// The lease must outlast the failover (here about 2s; the
			// default lease is 30s), or an entry leased before it is
			// taken over by the other replica while its Ack retries.
			Owner: owner, Lease: failoverLease, Poll: 20 * time.Millisecond, Batch: 8,
			Logger: slog.New(slog.NewTextHandler(logs, nil)).With("replica", owner),
		}))
	}
	ctx, stop := context.WithCancel(context.Background())
	var running sync.WaitGroup
	for _, d := range ds {
		running.Go(func() { _ = d.Run(ctx) })
	}
	defer func() {
		stop()
		running.Wait()
		if t.Failed() {
			t.Logf("dispatcher logs:\n%s", logs.String())
		}
	}()

	// The producer enqueues one message after another, each through
	// either replica, retrying a failed Enqueue (it is idempotent by ID)
	// as the daemon's incident evaluation would on its next tick.
	var mu sync.Mutex
	run := failoverRun{}
	lastOK := time.Now()
	stopProducing := make(chan struct{})
	produced := make(chan int, 1) // the count of successful Enqueues, latest first
	var producing sync.WaitGroup
	producing.Go(func() {
		for i := 0; ; i++ {
			m := notify.Message{
				ID: fmt.Sprintf("prod/check-%d/unauthorized/%d-opened", i%6, i), IncidentKey: fmt.Sprintf("prod/check-%d/unauthorized", i%6),
				Event: notify.EventOpened, Env: "prod", At: time.Now(),
			}
			for {
				select {
				case <-stopProducing:
					return
				default:
				}
				err := ds[i%2].Enqueue(ctx, m)
				mu.Lock()
				if err == nil {
					run.enqueued = append(run.enqueued, m.ID)
					run.longestGap = max(run.longestGap, time.Since(lastOK))
					lastOK = time.Now()
					n := len(run.enqueued)
					mu.Unlock()
					select {
					case <-produced:
					default:
					}
					produced <- n
					break
				}
				run.enqueueErrors++
				mu.Unlock()
				time.Sleep(10 * time.Millisecond) // a retry's pace, not synchronisation
			}
			time.Sleep(5 * time.Millisecond) // the pace of incidents
		}
	})
	waitProduced := func(n int) {
		t.Helper()
		guard := time.After(30 * time.Second)
		for {
			select {
			case got := <-produced:
				if got >= n {
					return
				}
			case <-guard:
				t.Fatalf("fewer than %d messages enqueued within 30s", n)
			}
		}
	}

	waitProduced(40)
	master, err := sg.Master(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := trigger(t.Context(), sg, master); err != nil {
		t.Fatalf("failover: %v", err)
	}
	if _, err := sg.WaitNewMaster(t.Context(), master); err != nil {
		t.Fatal(err)
	}
	run.newMaster = time.Since(began)
	if recover != nil {
		if err := recover(t.Context(), sg, master); err != nil {
			t.Fatal(err)
		}
		run.recovered = time.Since(began)
	}
	mu.Lock()
	after := len(run.enqueued)
	mu.Unlock()
	waitProduced(after + 40)
	close(stopProducing)
	producing.Wait()

	// Done when every message went out and no outbox holds anything:
	// an entry still in one (its Ack lost in the switch) would be
	// delivered again when its lease ends. The shared outbox is read
	// directly too, since a fallback that thinks Redis is down counts only
	// its local entries.
	drained := func() string {
		for _, id := range run.enqueued {
			if rec.delivered(id) == 0 {
				return id + " not delivered yet"
			}
		}
		for i, ob := range append([]store.Store{stores[0]}, outboxes...) {
			if n, err := ob.Depth(t.Context()); err != nil || n != 0 {
				return fmt.Sprintf("outbox %d: depth %d, %v", i, n, err)
			}
		}
		return ""
	}
	guard := time.After(30 * time.Second)
	for {
		why := drained()
		if why == "" {
			break
		}
		select {
		case <-guard:
			t.Errorf("not drained within 30s after the failover: %s", why)
		case <-time.After(20 * time.Millisecond):
			continue
		}
		break
	}
	stop()
	running.Wait()

	var lost, duplicated []string
	for _, id := range run.enqueued {
		switch n := rec.delivered(id); {
		case n == 0:
			lost = append(lost, id)
		case n > 1:
			duplicated = append(duplicated, fmt.Sprintf("%s ×%d", id, n))
		}
	}
	ackFailed := strings.Count(logs.String(), "ack failed after delivery")
	t.Logf("%d messages enqueued (%d Enqueue errors retried); sentinels named the new master %v after the trigger (replica back in sync after %v); longest gap between enqueues %v; %d acks failed after delivery; %d lost, %d duplicated",
		len(run.enqueued), run.enqueueErrors, run.newMaster.Round(time.Millisecond), run.recovered.Round(time.Millisecond),
		run.longestGap.Round(time.Millisecond), ackFailed, len(lost), len(duplicated))
	if len(lost) > 0 {
		t.Errorf("%d acknowledged messages never delivered: %q", len(lost), lost)
	}
	if len(duplicated) > 0 {
		t.Errorf("%d messages delivered more than once: %q", len(duplicated), duplicated)
	}
}
