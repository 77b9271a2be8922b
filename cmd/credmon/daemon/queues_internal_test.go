package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/memstore"
)

// heldStore is a memstore whose DeleteResults waits for release, so the
// writer's run can be held while results queue behind it.
type heldStore struct {
	*memstore.Store
	entered, release chan struct{}
	once             sync.Once
}

func (s *heldStore) DeleteResults(ctx context.Context, keys ...string) error {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return s.Store.DeleteResults(ctx, keys...)
}

// numbered is result seq of check name; every one starts at the same
// time, so the memstore keeps them in the order they are written.
func numbered(name string, seq int) *checks.Result {
	return &checks.Result{Env: "prod", Check: name, Started: time.Unix(1_800_000_000, 0), Status: checks.StatusOK, Cause: checks.CauseOK, Detail: strconv.Itoa(seq)}
}

// writtenInOrder fails t unless each check's stored results are 0..n-1,
// each once, in the order put.
func writtenInOrder(t *testing.T, st store.Results, names []string, n int) {
	t.Helper()
	for _, name := range names {
		rs, err := st.RecentResults(context.Background(), "prod/"+name, store.Keep)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for i := len(rs) - 1; i >= 0; i-- { // newest first
			got = append(got, rs[i].Detail)
		}
		for i := range n {
			want = append(want, strconv.Itoa(i))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: stored %v; want %v", name, got, want)
		}
	}
}

// A resize while results are queued: the queue follows queueSize for the
// new count, and what was queued before it (held behind a deletion) is
// written before what is queued after, each result once.
func TestResultWriterResizeKeepsQueuedResultsInOrder(t *testing.T) {
	st := &heldStore{Store: memstore.New(), entered: make(chan struct{}), release: make(chan struct{})}
	w := newResultWriter(st, slog.New(slog.DiscardHandler), 10)
	if got, want := cap(w.ch), queueSize(10, minWriterBuffer, maxWriterBuffer); got != want {
		t.Fatalf("queue for 10 checks holds %d; want %d", got, want)
	}
	names := []string{"a", "b", "c", "d"}
	put := func(from, to int) {
		for seq := from; seq < to; seq++ {
			for _, name := range names {
				w.put(context.Background(), numbered(name, seq))
			}
		}
	}
	ctx := context.Background()
	put(0, 3)
	w.forget(ctx, []string{"prod/gone"})
	<-st.entered // run holds; what follows stays queued
	put(3, 6)
	w.resize(10_000)
	if got, want := cap(w.ch), queueSize(10_000, minWriterBuffer, maxWriterBuffer); got != want {
		t.Errorf("after resizing for 10,000 checks the queue holds %d; want %d", got, want)
	}
	put(6, 8)
	w.resize(10) // and back: shrinking keeps the order too
	if got, want := cap(w.ch), queueSize(10, minWriterBuffer, maxWriterBuffer); got != want {
		t.Errorf("after resizing for 10 checks the queue holds %d; want %d", got, want)
	}
	put(8, 9)
	close(st.release)
	w.close()
	writtenInOrder(t, st, names, 9)
}

// Results put from many goroutines while the queue is resized again and
// again are each written once, in each check's order. Fewer results than
// the smallest queue holds, so none is written by its caller (a full
// queue's way out, which does not keep the order).
func TestResultWriterResizeUnderLoad(t *testing.T) {
	st := memstore.New()
	w := newResultWriter(st, slog.New(slog.DiscardHandler), 10)
	var names []string
	for i := range 16 {
		names = append(names, fmt.Sprintf("c%d", i))
	}
	const each = store.Keep
	if len(names)*each > minWriterBuffer {
		t.Fatal("more results than the smallest queue holds")
	}
	var producers sync.WaitGroup
	for _, name := range names {
		producers.Go(func() {
			for seq := range each {
				w.put(context.Background(), numbered(name, seq))
			}
		})
	}
	for i := range 200 {
		w.resize([]int{10, 5_000, 300, 100_000}[i%4])
	}
	producers.Wait()
	w.close()
	writtenInOrder(t, st, names, each)
}

// handled records the ops an incident queue hands on, per subject.
type handled struct {
	mu   sync.Mutex
	seqs map[string][]int
}

func (h *handled) add(op incidentOp) {
	seq, _ := strconv.Atoi(op.r.Detail)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seqs[op.r.Key()] = append(h.seqs[op.r.Key()], seq)
}

// inOrder fails t unless each subject's ops were handled 0..n-1, each once.
func (h *handled) inOrder(t *testing.T, names []string, n int) {
	t.Helper()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	for _, name := range names {
		if got := h.seqs["prod/"+name]; !slices.Equal(got, want) {
			t.Errorf("%s: handled %v; want %v", name, got, want)
		}
	}
}

// A resize while ops wait in every shard: each shard follows queueSize
// for the new count and a subject's ops are handled in order, each once,
// those queued before the resize first.
func TestIncidentQueueResizeKeepsQueuedOpsInOrder(t *testing.T) {
	h := &handled{seqs: map[string][]int{}}
	release := make(chan struct{})
	q := newIncidentQueue(func(op incidentOp) {
		<-release // nothing is handled before the resizes
		h.add(op)
	}, 10)
	shards := func() []int {
		var caps []int
		for _, ch := range q.shards {
			caps = append(caps, cap(ch))
		}
		return caps
	}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	put := func(from, to int) {
		for seq := from; seq < to; seq++ {
			for _, name := range names {
				q.put(incidentOp{r: numbered(name, seq)})
			}
		}
	}
	// 24 ops fit the shards however the subjects hash (32 a shard).
	put(0, 3)
	q.resize(10_000)
	want := queueSize(10_000/incidentShards, minIncidentBuffer, maxIncidentBuffer)
	if got := shards(); slices.ContainsFunc(got, func(c int) bool { return c != want }) || len(got) != incidentShards {
		t.Errorf("after resizing for 10,000 checks the shards hold %v; want %d shards of %d", got, incidentShards, want)
	}
	put(3, 8)
	q.resize(10)
	want = queueSize(10/incidentShards, minIncidentBuffer, maxIncidentBuffer)
	if got := shards(); slices.ContainsFunc(got, func(c int) bool { return c != want }) {
		t.Errorf("after resizing for 10 checks the shards hold %v; want %d each", got, want)
	}
	put(8, 10)
	close(release)
	q.close()
	h.inOrder(t, names, 10)
}

// Ops put from many goroutines while the shards are resized again and
// again are each handled once, in each subject's order.
func TestIncidentQueueResizeUnderLoad(t *testing.T) {
	h := &handled{seqs: map[string][]int{}}
	q := newIncidentQueue(h.add, 10)
	var names []string
	for i := range 32 {
		names = append(names, fmt.Sprintf("c%d", i))
	}
	const each = 200
	var producers sync.WaitGroup
	for _, name := range names {
		producers.Go(func() {
			for seq := range each {
				q.put(incidentOp{r: numbered(name, seq)})
			}
		})
	}
	for i := range 200 {
		q.resize([]int{10, 5_000, 300, 100_000}[i%4])
	}
	producers.Wait()
	q.close()
	h.inOrder(t, names, each)
}
