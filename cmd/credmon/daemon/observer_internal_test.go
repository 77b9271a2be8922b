package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/cmd/credmon/web"
)

// lockedBuffer is a log sink the runs' goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// finishSignal tells the test when a run is over, panic handled.
type finishSignal struct {
	*observer
	done chan struct{}
}

func (f finishSignal) Finished(id string, tick time.Time, d time.Duration) {
	f.observer.Finished(id, tick, d)
	select {
	case f.done <- struct{}{}:
	default:
	}
}

// A probe that panics with a secret in the panic value: the daemon's
// scheduler and observer log that it panicked, and its stack, never the
// value; the panic is counted.
func TestPanickingProbeNeverLogsThePanicValue(t *testing.T) {
	const secret = "sk_live_FAKEpanic000000000zz09"
	var logs lockedBuffer
	reg := prometheus.NewRegistry()
	d := &Daemon{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: web.NewMetrics(reg)}
	obs := finishSignal{observer: &observer{d: d}, done: make(chan struct{}, 1)}
	s := schedule.New(schedule.Options{Observer: obs, Logger: d.log})
	if err := s.Set([]schedule.Job{{ID: "prod/leaky", Spec: "@every 1s", Jitter: -1, Run: func(context.Context, time.Time) {
		panic("Authorization: Bearer " + secret)
	}}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-obs.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job did not run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	out := logs.String()
	for _, leak := range []string{secret, "FAKEpanic", "Authorization: Bearer"} {
		if strings.Contains(out, leak) {
			t.Errorf("log holds the panic value (%q):\n%s", leak, out)
		}
	}
	for _, want := range []string{"job panicked", "job=prod/leaky", "string value (not logged)", "stack=", "TestPanickingProbeNeverLogsThePanicValue"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "credmon_scheduler_panics_total"); err != nil || n != 1 {
		t.Errorf("credmon_scheduler_panics_total: %d series, %v; want the check's one", n, err)
	}
}
