package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// Results are written in batches: at 1,000 probes a second one pipeline or
// transaction per batch costs far less than one per probe, and a probe
// never waits for the store.
const (
	// The queue holds about one result per check, within these bounds. A
	// slot points at the Result the incident queue shares: whole Results
	// (≈ 340 bytes a slot) made the two queues 0.7 MB of live heap at
	// 1,000 checks and 5.5 MB at 10,000. A full queue is no loss (put
	// writes itself).
	minWriterBuffer = 256
	maxWriterBuffer = 8192
	writerBatch     = 512
	// A batch waits at most a second: each is a bolt commit and an fsync,
	// at 100 probes a second 50 ms batches were a fifth of the daemon's
	// CPU. Results can be rebuilt by the next run; a crash loses at most
	// a second of them (the outbox and incident state are written per
	// change, not here).
	writerInterval = time.Second
)

// resultWriter batches results into the store. Deletions of removed
// subjects' results travel the same queue, so a result queued before a
// reload removed its check is written before it is deleted, never after.
type resultWriter struct {
	st  store.Store
	log *slog.Logger

	mu     sync.RWMutex  // held for reading while sending on ch
	ch     chan writeOp  // replaced by resize
	done   chan struct{} // closed once ch is closed and written
	closed bool
}

// writeOp is a result to write or, with forget set, keys to delete. The
// Result is shared with the incident queue: nothing changes it once
// recorded.
type writeOp struct {
	r      *checks.Result
	forget []string
}

// queueSize is the one sizing rule of the daemon's queues: about one slot
// per check, within [lo, hi]. Queues are sized when the daemon starts and
// again by every reload that changes the check count: a queue sized for
// 100 checks slows probing of 10,000 (a full one loses nothing, but the
// probe that finds it full waits).
func queueSize(checks, lo, hi int) int { return min(max(checks, lo), hi) }

// newResultWriter sizes its queue for about n results and starts writing.
func newResultWriter(st store.Store, log *slog.Logger, n int) *resultWriter {
	w := &resultWriter{st: st, log: log}
	w.start(n, nil)
	return w
}

// start opens a queue for about n results, written once after is closed:
// the queue it replaces is written first, so a check's results keep their
// order. The caller holds mu, or w is not shared yet.
func (w *resultWriter) start(n int, after <-chan struct{}) {
	ch, done := make(chan writeOp, queueSize(n, minWriterBuffer, maxWriterBuffer)), make(chan struct{})
	w.ch, w.done = ch, done
	go func() {
		if after != nil {
			<-after
		}
		w.run(ch, done)
	}()
}

// resize sizes the queue for about n results. It shrinks as well as
// grows: a queue sized for checks a reload removed would hold up to
// maxWriterBuffer slots for nothing. What is queued is written before
// anything queued after, and nothing waits for it here.
func (w *resultWriter) resize(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || cap(w.ch) == queueSize(n, minWriterBuffer, maxWriterBuffer) {
		return
	}
	close(w.ch)
	w.start(n, w.done)
}

// put queues r; when the queue is full the caller writes it itself, which
// slows probing down rather than dropping results. After close it writes
// at once: a probe that outlived the drain still gets recorded.
func (w *resultWriter) put(ctx context.Context, r *checks.Result) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		select {
		case w.ch <- writeOp{r: r}:
			return
		default:
		}
	}
	w.write(ctx, []checks.Result{*r})
}

// forget deletes every result of keys, after whatever is queued before it.
func (w *resultWriter) forget(ctx context.Context, keys []string) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		w.ch <- writeOp{forget: keys}
		return
	}
	deleteResults(ctx, w.st, w.log, keys)
}

// deleteResults deletes every result of keys from st.
func deleteResults(ctx context.Context, st store.Store, log *slog.Logger, keys []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := st.DeleteResults(ctx, keys...); err != nil {
		log.Warn("store: results of removed checks and credentials not deleted; the status page no longer shows them", "keys", len(keys), "err", err)
	}
}

// run writes batches from ch until it is closed, then writes what is left
// and closes done.
func (w *resultWriter) run(ch <-chan writeOp, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(writerInterval)
	defer t.Stop()
	var batch []checks.Result // grows to the busiest second's results, up to writerBatch
	flush := func() {
		if len(batch) > 0 {
			w.write(context.Background(), batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case op, ok := <-ch:
			if !ok {
				flush()
				return
			}
			if op.forget != nil {
				flush()
				deleteResults(context.Background(), w.st, w.log, op.forget)
				continue
			}
			batch = append(batch, *op.r)
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
		w.log.Warn("store: writing results failed, in part or whole (the error says which)", "results", len(rs), "err", err)
	}
}

// close stops accepting results and waits until every queued one is
// written (the last queue is written after every one it replaced).
func (w *resultWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	done := w.done
	w.mu.Unlock()
	<-done
}
