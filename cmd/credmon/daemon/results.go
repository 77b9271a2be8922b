package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// Results are written in batches: at 1,000 probes a second one pipeline or
// transaction per batch costs far less than one per probe, and a probe
// never waits for the store.
const (
	writerBuffer   = 8192
	writerBatch    = 512
	writerInterval = 50 * time.Millisecond
)

// resultWriter batches results into the store.
type resultWriter struct {
	st   store.Store
	log  *slog.Logger
	ch   chan checks.Result
	done chan struct{}
}

func newResultWriter(st store.Store, log *slog.Logger) *resultWriter {
	return &resultWriter{st: st, log: log, ch: make(chan checks.Result, writerBuffer), done: make(chan struct{})}
}

// put queues r; when the queue is full the caller writes it itself, which
// slows probing down rather than dropping results.
func (w *resultWriter) put(ctx context.Context, r checks.Result) {
	select {
	case w.ch <- r:
	default:
		w.write(ctx, []checks.Result{r})
	}
}

// run writes batches until close, then writes what is left.
func (w *resultWriter) run() {
	defer close(w.done)
	t := time.NewTicker(writerInterval)
	defer t.Stop()
	batch := make([]checks.Result, 0, writerBatch)
	flush := func() {
		if len(batch) > 0 {
			w.write(context.Background(), batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case r, ok := <-w.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) == writerBatch {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

func (w *resultWriter) write(ctx context.Context, rs []checks.Result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := store.PutResults(ctx, w.st, rs); err != nil {
		w.log.Warn("store: results not recorded", "results", len(rs), "err", err)
	}
}

// close stops accepting results and waits until every queued one is written.
func (w *resultWriter) close() {
	close(w.ch)
	<-w.done
}
