package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/credmon/credmon/store"
)

// Layout of the outbox, four buckets made by the first Enqueue:
//
//	outbox_entries  id → outboxRecord JSON (the entry, its queue sequence, its lease)
//	outbox_queue    groupKey ‖ seq → id: each group's FIFO; the first key of a group is its head
//	outbox_ready    timeKey(ready) ‖ group → "": groups by when their head may next be leased
//	outbox_groups   groupKey → the group's outbox_ready key, to move it
//
// Two more keep the IDs of delivered entries for store.DeliveredKept, made
// by the first Ack (a file from before them has none until then):
//
//	outbox_delivered     id → timeKey(acked): delivered reads it
//	outbox_delivered_at  timeKey(acked) ‖ id → "": oldest first, for trimming
//
// A group's ready time is its head's NotBefore (never earlier than the
// moment it became head, so groups queue in the order they became due), or
// its lease expiry while leased. Lease walks outbox_ready from the start
// and stops at the first group not yet ready. Every call is one Update.
var (
	bucketOutboxEntries = []byte("outbox_entries")
	bucketOutboxQueue   = []byte("outbox_queue")
	bucketOutboxReady   = []byte("outbox_ready")
	bucketOutboxGroups  = []byte("outbox_groups")

	bucketOutboxDelivered   = []byte("outbox_delivered")
	bucketOutboxDeliveredAt = []byte("outbox_delivered_at")
)

// trimPerAck bounds how many expired delivered IDs one Ack removes, so an
// Ack after a long pause stays small; each Ack adds one.
const trimPerAck = 8

// delivered reports whether id was acked within store.DeliveredKept of
// now. It reads the ack's time rather than trusting the sweep in remember:
// that one forgets at most trimPerAck IDs an Ack, and only when there is
// an Ack, so after a burst of acks, or with none since, IDs acked longer
// ago than DeliveredKept are still in the bucket. The contract keeps an
// ID only that long, as memstore and redisstore do; the sweep just keeps
// the file small. A value that is not a time (none is written) counts as
// delivered: refusing a message twice is safer than sending it twice.
func delivered(tx *bolt.Tx, id string, now time.Time) bool {
	b := tx.Bucket(bucketOutboxDelivered)
	if b == nil {
		return false
	}
	at := b.Get([]byte(id))
	if at == nil {
		return false
	}
	return len(at) != timeKeyLen || bytes.Compare(at, deliveredHorizon(now)) >= 0
}

// deliveredHorizon is the timeKey before which an ack is forgotten.
func deliveredHorizon(now time.Time) []byte {
	return timeKey(now.Add(-store.DeliveredKept))
}

// remember keeps acked id for store.DeliveredKept, and forgets up to
// trimPerAck IDs acked longer ago.
func remember(tx *bolt.Tx, id string, now time.Time) error {
	byID, err := tx.CreateBucketIfNotExists(bucketOutboxDelivered)
	if err != nil {
		return err
	}
	byTime, err := tx.CreateBucketIfNotExists(bucketOutboxDeliveredAt)
	if err != nil {
		return err
	}
	if old := byID.Get([]byte(id)); old != nil {
		// Acked again after delivered stopped counting an older ack but
		// before the sweep reached it: that ack's index key goes now, or
		// the sweep would forget this ack with it.
		if err := byTime.Delete(append(bytes.Clone(old), id...)); err != nil {
			return err
		}
	}
	at := timeKey(now)
	if err := byID.Put([]byte(id), at); err != nil {
		return err
	}
	if err := byTime.Put(append(at, id...), []byte{}); err != nil {
		return err
	}
	horizon := deliveredHorizon(now)
	c := byTime.Cursor()
	for n, k := 0, firstKey(c); n < trimPerAck && k != nil && (len(k) < timeKeyLen || bytes.Compare(k[:timeKeyLen], horizon) < 0); n, k = n+1, firstKey(c) {
		// A key too short to hold a time (none is written) indexes no
		// ack: it goes, or it would stop the sweep (and panic) for good.
		if len(k) >= timeKeyLen {
			if err := byID.Delete(k[timeKeyLen:]); err != nil {
				return err
			}
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

func firstKey(c *bolt.Cursor) []byte {
	k, _ := c.First()
	return k
}

// outboxRecord is an entry as stored, with its lease. Owner stays set
// after the lease expires, until another owner leases the entry: the
// store's contract lets a late owner still ack.
type outboxRecord struct {
	Entry store.OutboxEntry `json:"entry"`
	Seq   uint64            `json:"seq"`
	Owner string            `json:"owner,omitempty"`
	Until time.Time         `json:"until,omitzero"`
}

// groupKey length-prefixes the group, so no group's keys are a prefix of
// another's and the empty group is a valid key.
func groupKey(group string) []byte {
	k := binary.AppendUvarint(nil, uint64(len(group)))
	return append(k, group...)
}

func queueKey(group string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(groupKey(group), seq)
}

// timeKey orders times as bytes: big-endian seconds with the sign bit
// flipped (so times before 1970 sort first), then nanoseconds. Seconds and
// nanoseconds rather than UnixNano because UnixNano is undefined outside
// 1678–2262, which includes a zero time. The results layout before history
// values (convert.go) keyed each result by timeKey(started) ‖ sequence.
func timeKey(t time.Time) []byte {
	k := make([]byte, timeKeyLen)
	binary.BigEndian.PutUint64(k[0:8], uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:12], uint32(t.Nanosecond()))
	return k
}

const timeKeyLen = 12

// dueAt is when an entry that becomes its group's head at now may be
// leased.
func dueAt(e store.OutboxEntry, now time.Time) time.Time {
	if e.NotBefore.After(now) {
		return e.NotBefore
	}
	return now
}

// outboxTx is the outbox's buckets inside one transaction.
type outboxTx struct {
	entries, queue, ready, groups *bolt.Bucket
}

// openOutbox returns the buckets, creating them if create is set; ok is
// false when they do not exist yet (nothing was ever enqueued).
func openOutbox(tx *bolt.Tx, create bool) (o outboxTx, ok bool, err error) {
	bs := []**bolt.Bucket{&o.entries, &o.queue, &o.ready, &o.groups}
	for i, name := range [][]byte{bucketOutboxEntries, bucketOutboxQueue, bucketOutboxReady, bucketOutboxGroups} {
		if create {
			if *bs[i], err = tx.CreateBucketIfNotExists(name); err != nil {
				return o, false, err
			}
		} else if *bs[i] = tx.Bucket(name); *bs[i] == nil {
			return o, false, nil
		}
	}
	return o, true, nil
}

// load returns id's record, or nil if it has none. A record that does not
// decode, or names another entry, is an error naming id: handed out, it
// would be acked under the ID it names and leave id's queue key behind.
func (o outboxTx) load(id []byte) (*outboxRecord, error) {
	raw := o.entries.Get(id)
	if raw == nil {
		return nil, nil
	}
	var rec outboxRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decode outbox entry %q: %w", id, err)
	}
	if rec.Entry.ID != string(id) {
		return nil, fmt.Errorf("decode outbox entry %q: the record is of entry %q", id, rec.Entry.ID)
	}
	return &rec, nil
}

func (o outboxTx) save(rec *outboxRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode outbox entry %s: %w", rec.Entry.ID, err)
	}
	return o.entries.Put([]byte(rec.Entry.ID), raw)
}

// head returns group's oldest entry and its ID, or nil if the group has
// none. A queue key whose entry is gone is dropped: it has nothing left to
// deliver and would hold the group's others back. A head that does not
// read (load), or is not stored as the one queued there, is an error,
// with its ID.
func (o outboxTx) head(group string) (*outboxRecord, []byte, error) {
	prefix := groupKey(group)
	c := o.queue.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		id := bytes.Clone(v)
		rec, err := o.load(id)
		if err != nil {
			return nil, id, err
		}
		if rec == nil {
			if err := c.Delete(); err != nil {
				return nil, id, err
			}
			continue
		}
		if rec.Entry.Group != group || !bytes.Equal(k, queueKey(group, rec.Seq)) {
			return nil, id, fmt.Errorf("decode outbox entry %q: stored as #%d of group %q, queued in group %q", id, rec.Seq, rec.Entry.Group, group)
		}
		return rec, id, nil
	}
	return nil, nil, nil
}

// setReady moves group to t in the ready index.
func (o outboxTx) setReady(group string, t time.Time) error {
	if err := o.clearReady(group); err != nil {
		return err
	}
	rk := append(timeKey(t), group...)
	if err := o.ready.Put(rk, []byte{}); err != nil {
		return err
	}
	return o.groups.Put(groupKey(group), rk)
}

// clearReady drops group from the ready index: it has no entries left.
func (o outboxTx) clearReady(group string) error {
	gk := groupKey(group)
	if old := o.groups.Get(gk); old != nil {
		if err := o.ready.Delete(bytes.Clone(old)); err != nil {
			return err
		}
	}
	return o.groups.Delete(gk)
}

// held returns id's record if owner holds its lease.
func (o outboxTx) held(id, owner string) (*outboxRecord, error) {
	rec, err := o.load([]byte(id))
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("entry is gone: %w", store.ErrLeaseLost)
	}
	if owner == "" || rec.Owner != owner {
		return nil, fmt.Errorf("not leased to %s: %w", owner, store.ErrLeaseLost)
	}
	return rec, nil
}

// Enqueue adds e unless an entry with its ID is already present.
func (s *Store) Enqueue(ctx context.Context, e store.OutboxEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.ID == "" {
		return store.ErrNoID
	}
	// As the other drivers: their JSON would turn invalid UTF-8 into
	// U+FFFD, and the ID handed back could not be acked.
	if !utf8.ValidString(e.ID) || !utf8.ValidString(e.Group) {
		return fmt.Errorf("boltstore: enqueue outbox entry %q: id and group must be UTF-8", e.ID)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		o, _, err := openOutbox(tx, true)
		if err != nil {
			return err
		}
		now := s.clock()
		if o.entries.Get([]byte(e.ID)) != nil || delivered(tx, e.ID, now) {
			return nil
		}
		if e.Enqueued.IsZero() {
			e.Enqueued = now
		}
		seq, err := o.queue.NextSequence()
		if err != nil {
			return err
		}
		if err := o.save(&outboxRecord{Entry: e, Seq: seq}); err != nil {
			return err
		}
		if err := o.queue.Put(queueKey(e.Group, seq), []byte(e.ID)); err != nil {
			return err
		}
		if o.groups.Get(groupKey(e.Group)) != nil {
			return nil // the group has a head already; e waits behind it
		}
		return o.setReady(e.Group, dueAt(e, now))
	})
	if err != nil {
		return fmt.Errorf("boltstore: enqueue outbox entry %s: %w", e.ID, err)
	}
	return nil
}

// Lease hands owner the heads of up to n ready groups for lease. A call
// that finds nothing due rolls back instead of committing, so idle
// polling costs no disk write.
func (s *Store) Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkLease(owner, lease); err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	out, err := s.lease(owner, n, lease)
	if damaged := (*store.DamagedError)(nil); err != nil && !errors.As(err, &damaged) {
		return nil, fmt.Errorf("boltstore: lease outbox entries: %w", err)
	}
	return out, err
}

func (s *Store) lease(owner string, n int, lease time.Duration) ([]store.OutboxEntry, error) {
	tx, err := s.db.Begin(true)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	o, ok, err := openOutbox(tx, false)
	if !ok || err != nil {
		return nil, err
	}
	now := s.clock()
	nowKey := timeKey(now)
	var due []string
	var stale [][]byte
	c := o.ready.Cursor()
	for k, _ := c.First(); k != nil && len(due) < n; k, _ = c.Next() {
		// setReady keeps one key a group, the one outbox_groups names.
		// Any other is a damaged file's: one too short to hold a time
		// would panic slicing it, and one naming a group that has its
		// own would hand that group's head out twice.
		if len(k) < timeKeyLen || !bytes.Equal(o.groups.Get(groupKey(string(k[timeKeyLen:]))), k) {
			stale = append(stale, bytes.Clone(k))
			continue
		}
		if bytes.Compare(k[:timeKeyLen], nowKey) > 0 {
			break
		}
		due = append(due, string(k[timeKeyLen:]))
	}
	if len(due) == 0 && len(stale) == 0 {
		return nil, nil
	}
	for _, k := range stale {
		// Dropped, as head drops a queue key whose entry is gone: it
		// holds nothing back, so nothing that reads is lost. After the
		// walk: a bolt cursor skips a key after a delete.
		if err := o.ready.Delete(k); err != nil {
			return nil, err
		}
	}
	until := now.Add(lease)
	out := make([]store.OutboxEntry, 0, len(due))
	damage := store.Damage{What: store.StoredOutbox}
	for _, group := range due {
		rec, id, err := o.head(group)
		if err != nil {
			// Held back as if leased to no one, so the damage is reported
			// once a lease instead of taking a place in every batch.
			damage.Add(string(id), err)
			if err := o.setReady(group, until); err != nil {
				return nil, err
			}
			continue
		}
		if rec == nil {
			if err := o.clearReady(group); err != nil {
				return nil, err
			}
			continue
		}
		rec.Owner, rec.Until = owner, until
		if err := o.save(rec); err != nil {
			return nil, err
		}
		if err := o.setReady(group, until); err != nil {
			return nil, err
		}
		out = append(out, rec.Entry)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, damage.Err()
}

// Ack removes id if owner still holds it and readies its group's next.
func (s *Store) Ack(ctx context.Context, id, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		o, ok, err := openOutbox(tx, false)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("entry is gone: %w", store.ErrLeaseLost)
		}
		rec, err := o.held(id, owner)
		if err != nil {
			return err
		}
		group := rec.Entry.Group
		if err := remember(tx, id, s.clock()); err != nil {
			return err
		}
		if err := o.entries.Delete([]byte(id)); err != nil {
			return err
		}
		if err := o.queue.Delete(queueKey(group, rec.Seq)); err != nil {
			return err
		}
		next, _, err := o.head(group)
		switch {
		case err != nil:
			// The next entry does not read: Lease reports it. Failing the
			// Ack would send the delivered message again after its lease.
			return o.setReady(group, s.clock())
		case next == nil:
			return o.clearReady(group)
		}
		return o.setReady(group, dueAt(next.Entry, s.clock()))
	})
	if err != nil {
		return fmt.Errorf("boltstore: ack outbox entry %s: %w", id, err)
	}
	return nil
}

// Defer releases id for another attempt at notBefore if owner still holds it.
func (s *Store) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		o, ok, err := openOutbox(tx, false)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("entry is gone: %w", store.ErrLeaseLost)
		}
		rec, err := o.held(id, owner)
		if err != nil {
			return err
		}
		rec.Entry.Attempts++
		rec.Entry.NotBefore = notBefore
		rec.Owner, rec.Until = "", time.Time{}
		if err := o.save(rec); err != nil {
			return err
		}
		return o.setReady(rec.Entry.Group, dueAt(rec.Entry, s.clock()))
	})
	if err != nil {
		return fmt.Errorf("boltstore: defer outbox entry %s: %w", id, err)
	}
	return nil
}

// Depth counts undelivered entries.
func (s *Store) Depth(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketOutboxEntries); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: outbox depth: %w", err)
	}
	return n, nil
}

// checkLease rejects arguments that would hand out an entry nobody holds.
func checkLease(owner string, lease time.Duration) error {
	if owner == "" {
		return errors.New("boltstore: lease needs an owner")
	}
	if lease <= 0 {
		return fmt.Errorf("boltstore: lease %v must be positive", lease)
	}
	return nil
}
