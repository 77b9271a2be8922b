package daemon

import (
	"hash/maphash"
	"sync"

	"github.com/credmon/credmon/checks"
)

// incidentShards is how many subjects' incident updates run at once. A
// subject always goes to the same shard, so its results are applied in
// the order they were recorded.
const incidentShards = 8

// Each shard's queue holds about its share of one result per check,
// within these bounds (queueSize; a slot points at the Result the result
// writer shares). A full queue makes the recording probe wait: slower
// probing, never a lost transition.
const (
	minIncidentBuffer = 32
	maxIncidentBuffer = 1024
)

// incidentQueue takes incident evaluation off the scheduler's slots: a
// probe's slot is free once its result is queued, not once the incident
// state has round-tripped the store and the outbox. Per subject the order
// holds, across subjects updates run in parallel.
type incidentQueue struct {
	seed   maphash.Seed
	handle func(incidentOp)
	wg     sync.WaitGroup

	mu      sync.RWMutex      // held for reading while sending
	shards  []chan incidentOp // replaced by resize, never their number
	drained []chan struct{}   // per shard: closed once it is closed and handled
	closed  bool
}

// incidentOp is a result to observe or, with forget set, a subject that
// left the configuration.
type incidentOp struct {
	r      *checks.Result // shared with the result writer, not changed
	forget *checks.Subject
}

func (op incidentOp) subject() checks.Subject {
	if op.forget != nil {
		return *op.forget
	}
	return op.r.Subject()
}

// newIncidentQueue sizes its shards for about n subjects.
func newIncidentQueue(handle func(incidentOp), n int) *incidentQueue {
	q := &incidentQueue{seed: maphash.MakeSeed(), handle: handle, shards: make([]chan incidentOp, incidentShards), drained: make([]chan struct{}, incidentShards)}
	q.start(n)
	return q
}

// shardSize is a shard's capacity for about n subjects.
func shardSize(n int) int { return queueSize(n/incidentShards, minIncidentBuffer, maxIncidentBuffer) }

// start opens every shard anew for about n subjects. A new shard is
// handled once the one it replaces is drained: the seed and the number of
// shards never change, so a subject stays on its shard and its ops stay
// in order. The caller holds mu, or q is not shared yet.
func (q *incidentQueue) start(n int) {
	for i := range q.shards {
		ch, prev, done := make(chan incidentOp, shardSize(n)), q.drained[i], make(chan struct{})
		q.shards[i], q.drained[i] = ch, done
		q.wg.Go(func() {
			defer close(done)
			if prev != nil {
				<-prev
			}
			for op := range ch {
				q.handle(op)
			}
		})
	}
}

// resize sizes the shards for about n subjects, shrinking as well as
// growing (as the result writer, for the memory). What is queued is
// handled before anything queued after, and nothing waits for it here.
func (q *incidentQueue) resize(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || cap(q.shards[0]) == shardSize(n) {
		return
	}
	for _, ch := range q.shards {
		close(ch)
	}
	q.start(n)
}

// put queues op behind everything queued for its subject. After close it
// is handled at once by the caller.
func (q *incidentQueue) put(op incidentOp) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.handle(op)
		return
	}
	h := maphash.String(q.seed, op.subject().Key())
	q.shards[h%uint64(len(q.shards))] <- op
}

// close stops taking work and waits until every queued op is handled,
// in the shards resize replaced too.
func (q *incidentQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		for _, ch := range q.shards {
			close(ch)
		}
	}
	q.mu.Unlock()
	q.wg.Wait()
}
