package main

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/credmon/credmon/cmd/credmon/daemon"
)

// runningDaemon is the real daemon started by startDaemon.
type runningDaemon struct {
	addr   string
	exited chan struct{} // closed when Run has returned; err is then set
	err    error
	cancel context.CancelFunc
	once   sync.Once
}

// startDaemon runs daemon.Run with opts on a free loopback port, without
// config watching and, unless opts has one, with logs discarded; it
// returns once the daemon serves. The test's cleanup stops it and fails
// the test if Run returned an error.
func startDaemon(t *testing.T, opts daemon.Options) *runningDaemon {
	t.Helper()
	opts.Listen, opts.WatchInterval = "127.0.0.1:0", -1
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ready := make(chan string, 1)
	opts.Ready = func(addr string) { ready <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	d := &runningDaemon{exited: make(chan struct{}), cancel: cancel}
	go func() {
		d.err = daemon.Run(ctx, opts)
		close(d.exited)
	}()
	t.Cleanup(func() {
		if err := d.stop(); err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	select {
	case d.addr = <-ready:
	case <-d.exited:
		t.Fatalf("daemon did not start: %v", d.err)
	}
	return d
}

// stop cancels the daemon and returns what Run returned; calling it again
// returns the same.
func (d *runningDaemon) stop() error {
	d.once.Do(d.cancel)
	<-d.exited
	return d.err
}
