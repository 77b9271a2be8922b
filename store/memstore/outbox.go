package memstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/credmon/credmon/store"
)

// outbox is the notification outbox. Its zero value is empty and ready.
//
// Each group is a FIFO of ids with a ready time: when its head may next be
// handed out (the head's NotBefore, or its lease expiry while leased).
// Lease takes the groups that are ready, oldest ready first, so one busy
// group cannot starve the others.
type outbox struct {
	mu      sync.Mutex
	now     func() time.Time // nil means time.Now; tests in this package set it
	entries map[string]*leasedEntry
	groups  map[string]*outboxGroup
	// delivered holds acked IDs for store.DeliveredKept, acked in the
	// order of deliveredAt, which trims it.
	delivered   map[string]bool
	deliveredAt []ackedID
}

type ackedID struct {
	id string
	at time.Time
}

type leasedEntry struct {
	entry store.OutboxEntry // Payload is the store's own copy
	owner string            // "" when not leased; kept after expiry until someone else leases
	until time.Time
}

type outboxGroup struct {
	ids   []string // enqueue order; ids[0] is the head
	ready time.Time
}

func (o *outbox) clock() time.Time {
	if o.now != nil {
		return o.now()
	}
	return time.Now()
}

// dueAt is when an entry that becomes a group's head at now may be leased.
// Never earlier than now, so groups queue in the order they became ready.
func dueAt(e store.OutboxEntry, now time.Time) time.Time {
	if e.NotBefore.After(now) {
		return e.NotBefore
	}
	return now
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
		return fmt.Errorf("memstore: enqueue outbox entry %q: id and group must be UTF-8", e.ID)
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.entries[e.ID]; ok || o.delivered[e.ID] {
		return nil
	}
	if o.entries == nil {
		o.entries = make(map[string]*leasedEntry)
		o.groups = make(map[string]*outboxGroup)
	}
	now := o.clock()
	if e.Enqueued.IsZero() {
		e.Enqueued = now
	}
	e.Payload = bytes.Clone(e.Payload)
	o.entries[e.ID] = &leasedEntry{entry: e}
	g := o.groups[e.Group]
	if g == nil {
		g = &outboxGroup{ready: dueAt(e, now)}
		o.groups[e.Group] = g
	}
	g.ids = append(g.ids, e.ID)
	return nil
}

// Lease hands owner the heads of up to n ready groups for lease.
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
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.clock()
	type ready struct {
		name string
		g    *outboxGroup
	}
	var due []ready
	for name, g := range o.groups {
		if !g.ready.After(now) {
			due = append(due, ready{name, g})
		}
	}
	slices.SortFunc(due, func(a, b ready) int {
		return cmp.Or(a.g.ready.Compare(b.g.ready), cmp.Compare(a.name, b.name))
	})
	var out []store.OutboxEntry
	until := now.Add(lease)
	for _, r := range due[:min(n, len(due))] {
		le := o.entries[r.g.ids[0]]
		le.owner, le.until = owner, until
		r.g.ready = until
		e := le.entry
		e.Payload = bytes.Clone(e.Payload)
		out = append(out, e)
	}
	return out, nil
}

// Ack removes id if owner still holds it.
func (s *Store) Ack(ctx context.Context, id, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	le, err := o.held(id, owner)
	if err != nil {
		return err
	}
	delete(o.entries, id)
	o.remember(id)
	g := o.groups[le.entry.Group]
	// Only a group's head is ever leased, so id is ids[0].
	g.ids = g.ids[1:]
	if len(g.ids) == 0 {
		delete(o.groups, le.entry.Group)
		return nil
	}
	g.ready = dueAt(o.entries[g.ids[0]].entry, o.clock())
	return nil
}

// remember keeps an acked id for store.DeliveredKept and forgets those
// acked longer ago.
func (o *outbox) remember(id string) {
	now := o.clock()
	if o.delivered == nil {
		o.delivered = make(map[string]bool)
	}
	o.delivered[id] = true
	o.deliveredAt = append(o.deliveredAt, ackedID{id: id, at: now})
	n := 0
	for n < len(o.deliveredAt) && now.Sub(o.deliveredAt[n].at) > store.DeliveredKept {
		delete(o.delivered, o.deliveredAt[n].id)
		n++
	}
	o.deliveredAt = o.deliveredAt[n:]
}

// Defer releases id for another attempt at notBefore if owner still holds it.
func (s *Store) Defer(ctx context.Context, id, owner string, notBefore time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	le, err := o.held(id, owner)
	if err != nil {
		return err
	}
	le.entry.Attempts++
	le.entry.NotBefore = notBefore
	le.owner, le.until = "", time.Time{}
	o.groups[le.entry.Group].ready = dueAt(le.entry, o.clock())
	return nil
}

// held returns id's entry if owner holds its lease. Called with o.mu held.
func (o *outbox) held(id, owner string) (*leasedEntry, error) {
	le, ok := o.entries[id]
	if !ok {
		return nil, fmt.Errorf("memstore: outbox entry %s is gone: %w", id, store.ErrLeaseLost)
	}
	if owner == "" || le.owner != owner {
		return nil, fmt.Errorf("memstore: outbox entry %s is not leased to %s: %w", id, owner, store.ErrLeaseLost)
	}
	return le, nil
}

// Depth counts undelivered entries.
func (s *Store) Depth(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.outbox.mu.Lock()
	defer s.outbox.mu.Unlock()
	return len(s.outbox.entries), nil
}

// checkLease rejects arguments that would hand out an entry nobody holds.
func checkLease(owner string, lease time.Duration) error {
	if owner == "" {
		return errors.New("memstore: lease needs an owner")
	}
	if lease <= 0 {
		return fmt.Errorf("memstore: lease %v must be positive", lease)
	}
	return nil
}
