package schedule

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestStopDrainsInFlightRuns(t *testing.T) {
	rec := newRecorder()
	release := make(chan struct{})
	ctxErrAtRelease := make(chan error, 1)
	var finished atomic.Bool
	s := New(Options{Observer: rec})
	if err := s.Set([]Job{{ID: "long", Spec: "@every 50ms", Run: func(ctx context.Context, _ time.Time) {
		<-release
		ctxErrAtRelease <- ctx.Err()
		finished.Store(true)
	}}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	rec.next(t, "started", "long")

	stopped := make(chan error, 1)
	go func() { stopped <- s.Stop(context.Background()) }()
	recv(t, s.stopping) // Stop has begun: firing is over, the run is not
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a run was in flight", err)
	default:
	}
	close(release)
	if err := recv(t, stopped); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if !finished.Load() {
		t.Fatal("Stop returned before the run finished")
	}
	if err := recv(t, ctxErrAtRelease); err != nil {
		t.Fatalf("run context was cancelled during a graceful stop: %v", err)
	}
	if n := s.inflight.Load(); n != 0 {
		t.Fatalf("%d runs in flight after Stop", n)
	}
	if err := s.Set(nil); !errors.Is(err, ErrStopped) {
		t.Fatalf("Set after Stop: %v, want ErrStopped", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStopWithExpiredContextCancelsAndReports(t *testing.T) {
	rec := newRecorder()
	cancelled := make(chan error, 1)
	s := New(Options{Observer: rec})
	if err := s.Set([]Job{{ID: "polite", Spec: "@every 50ms", Run: func(ctx context.Context, _ time.Time) {
		<-ctx.Done()
		cancelled <- ctx.Err()
	}}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	rec.next(t, "started", "polite")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Stop(ctx)
	if err == nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 run(s)") {
		t.Fatalf("Stop = %v, want an error counting 1 run and wrapping context.Canceled", err)
	}
	if strings.Contains(err.Error(), "ignored") {
		t.Fatalf("Stop says a run ignored cancellation, but it returned: %v", err)
	}
	if got := recv(t, cancelled); !errors.Is(got, context.Canceled) {
		t.Fatalf("run context ended with %v, want cancelled", got)
	}
}

func TestStopGivesUpOnRunsIgnoringCancellation(t *testing.T) {
	rec := newRecorder()
	release := make(chan struct{})
	s := New(Options{Observer: rec})
	if err := s.Set([]Job{{ID: "stubborn", Spec: "@every 50ms", Run: func(context.Context, time.Time) { <-release }}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	rec.next(t, "started", "stubborn")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Stop(ctx) // waits stopGrace
	close(release)
	if err == nil || !strings.Contains(err.Error(), "1 ignored it") {
		t.Fatalf("Stop = %v, want it to report the run still going", err)
	}
}
