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
	shards []chan incidentOp
	handle func(incidentOp)
	wg     sync.WaitGroup

	mu     sync.RWMutex // held for reading while sending
	closed bool
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
	q := &incidentQueue{seed: maphash.MakeSeed(), handle: handle, shards: make([]chan incidentOp, incidentShards)}
	size := queueSize(n/incidentShards, minIncidentBuffer, maxIncidentBuffer)
	for i := range q.shards {
		ch := make(chan incidentOp, size)
		q.shards[i] = ch
		q.wg.Go(func() {
			for op := range ch {
				handle(op)
			}
		})
	}
	return q
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

// close stops taking work and waits until every queued op is handled.
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
