// Package store keeps credmon's state — recent results, tokens, locks,
// incidents and the notification outbox — behind small interfaces with
// memory, bolt (embedded, the default) and redis implementations.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/redact"
)

// ErrNotFound is returned when a key has no value. Its NotFound method
// reports true, so a package that declares its own small KV port
// (checks/rotation) tells a missing key without importing store.
var ErrNotFound error = notFound{}

type notFound struct{}

func (notFound) Error() string  { return "store: not found" }
func (notFound) NotFound() bool { return true }

// ErrNoKey is returned by PutResult for a result whose subject cannot be
// keyed (checks.Subject.Valid), such as a check result without Env or
// Check: it has no key to be found by.
var ErrNoKey = errors.New("store: result has no env or check")

// DamagedError is returned by a read of every check (LatestResults,
// RecentStatuses) together with what did read, when some checks' stored
// values do not: each of those is left out (RecentStatuses keeps the
// statuses before the damage) rather than failing the read for every
// check. The next result of such a check replaces its value.
//
// Outbox.Lease returns one too, What StoredOutbox, for entries whose
// stored value does not read: they are not handed out, and each holds its
// group back for a lease at a time (order within a group still holds), so
// the other groups' entries are delivered and the damage is reported about
// once a lease rather than on every poll.
//
// Instances returns one, What StoredHeartbeats, for heartbeats that do not
// read, and the incident engine and the silences (package notify) for
// their KV records: always with what did read, so one damaged value costs
// only itself. What says which; one type, so a caller that shows damage
// (the status page's problems) needs one errors.As for all of them.
type DamagedError struct {
	Keys []string // what does not read, in the order read: see Stored
	Err  error    // why the first of them does not read
	What Stored   // what Keys name
}

// Stored is what a DamagedError's keys are.
type Stored uint8

const (
	StoredResults    Stored = iota // checks' results, "ENV/CHECK"
	StoredOutbox                   // outbox entry IDs
	StoredHeartbeats               // replica IDs
	StoredIncidents                // incident records, by KV key
	StoredSilences                 // runtime silences, by KV key
)

// The message quotes what was read (a damaged key; a decode error quotes
// the value it failed on, as time.Parse does) only this far: the bytes
// are anyone's, and the page, the log and the CLI show the message.
const (
	damagedKeyShown = 80
	damagedErrShown = 200
)

func (e *DamagedError) Error() string {
	const shown = 3
	keys := make([]string, 0, shown)
	for _, k := range e.Keys[:min(len(e.Keys), shown)] {
		keys = append(keys, redact.Excerpt(k, damagedKeyShown))
	}
	key := strings.Join(keys, ", ")
	if len(e.Keys) > shown {
		key += fmt.Sprintf(" and %d more", len(e.Keys)-shown)
	}
	n, why := len(e.Keys), e.Reason()
	switch e.What {
	case StoredOutbox:
		return fmt.Sprintf("store: %d stored outbox entr(ies) do not read (%s), held back with their groups a lease at a time: %v", n, key, why)
	case StoredHeartbeats:
		return fmt.Sprintf("store: the stored heartbeats of %d replica(s) do not read (%s), left out until their next heartbeat: %v", n, key, why)
	case StoredIncidents:
		return fmt.Sprintf("store: %d stored incident record(s) do not read (%s), their state lost: each subject starts afresh on its next result: %v", n, key, why)
	case StoredSilences:
		return fmt.Sprintf("store: %d stored silence(s) do not read (%s), not applied: %v", n, key, why)
	}
	return fmt.Sprintf("store: the stored results of %d check(s) do not read (%s), left out until their next result replaces them: %v", n, key, why)
}

// Reason is why the first key does not read, cut as Error cuts it: what a
// message about one key (a held outbox entry's health) quotes.
func (e *DamagedError) Reason() string { return redact.Excerpt(fmt.Sprint(e.Err), damagedErrShown) }

func (e *DamagedError) Unwrap() error { return e.Err }

// Damage collects the damaged values of one read; its Err is nil while
// none was added.
type Damage struct {
	What Stored // what the keys are (DamagedError.What)
	e    *DamagedError
}

// Add records that key's stored value does not read because of err.
func (d *Damage) Add(key string, err error) {
	if d.e == nil {
		d.e = &DamagedError{Err: err, What: d.What}
	}
	d.e.Keys = append(d.e.Keys, key)
}

// Err is the *DamagedError of what was added, or nil.
func (d *Damage) Err() error {
	if d.e == nil {
		return nil
	}
	return d.e
}

// Results keeps the recent results of every check.
//
// "Newest" means latest Started, not last written: a slow run of an earlier
// tick that finishes after a later one (or on another replica) must not
// become the current state. Results with equal Started have no defined order.
type Results interface {
	// PutResult records a result; only the newest Keep per check are kept.
	PutResult(ctx context.Context, r checks.Result) error
	// RecentResults returns up to n newest results of one check (key
	// "ENV/CHECK"), newest first. An unknown key or n <= 0 gives none.
	RecentResults(ctx context.Context, key string, n int) ([]checks.Result, error)
	// LatestResults returns the newest result of every check, ordered by
	// key. Checks whose value does not read are left out, with a
	// *DamagedError returned along with the others.
	LatestResults(ctx context.Context) ([]checks.Result, error)
	// RecentStatuses returns, for every check with results, the statuses
	// of its kept results (at most Keep), newest first: the history the
	// status page shows, the same on every replica sharing the store. As
	// LatestResults, it returns what reads along with a *DamagedError.
	RecentStatuses(ctx context.Context) (map[string][]checks.Status, error)
	// DeleteResults forgets every result of the given keys (a check or
	// credential removed from the configuration); unknown keys are no error.
	DeleteResults(ctx context.Context, keys ...string) error
}

// ResultBatcher is a Results that writes many results in one round trip
// (one pipeline, one transaction): the daemon batches results so a probe
// costs no store round trip of its own.
type ResultBatcher interface {
	PutResults(ctx context.Context, rs []checks.Result) error
}

// PutResults writes rs in one call when st is a ResultBatcher, else one by
// one.
func PutResults(ctx context.Context, st Results, rs []checks.Result) error {
	if b, ok := st.(ResultBatcher); ok {
		return b.PutResults(ctx, rs)
	}
	var errs []error
	for _, r := range rs {
		if err := st.PutResult(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Keep is how many results per check a store retains.
const Keep = 10

// KV is small shared state with compare-and-swap: incident state, key
// fingerprints, warning bands already alerted, sealed tokens. Values are
// opaque bytes; callers encode (and, for secrets, encrypt) them.
type KV interface {
	// Get returns the value, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set writes the value; ttl 0 keeps it until deleted.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// CompareAndSwap replaces old with new atomically and reports whether it
	// did. old nil means the key must be absent; new nil deletes it.
	CompareAndSwap(ctx context.Context, key string, old, new []byte, ttl time.Duration) (bool, error)
	// Scan returns every key starting with prefix and its value.
	Scan(ctx context.Context, prefix string) (map[string][]byte, error)
}

// Claims are leases that the first caller wins: one run per scheduled tick
// across replicas (never released early), one token refresh at a time
// (released when done).
type Claims interface {
	// Claim takes key for owner for ttl; false if someone else holds it.
	Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Release frees key if owner still holds it.
	Release(ctx context.Context, key, owner string) error
}

// Instance is one live replica.
type Instance struct {
	ID       string    `json:"id"`
	Host     string    `json:"host,omitempty"`
	Version  string    `json:"version,omitempty"`
	Started  time.Time `json:"started"`
	LastSeen time.Time `json:"last_seen"`
}

// Instances records replica heartbeats.
type Instances interface {
	// Heartbeat marks in alive for ttl.
	Heartbeat(ctx context.Context, in Instance, ttl time.Duration) error
	// Instances lists replicas whose heartbeat has not expired. One
	// whose heartbeat does not read is left out, with a *DamagedError
	// (StoredHeartbeats) naming it returned along with the others.
	Instances(ctx context.Context) ([]Instance, error)
}

// OutboxEntry is one message waiting for delivery.
type OutboxEntry struct {
	ID        string    `json:"id"`    // unique; Enqueue is idempotent on it
	Group     string    `json:"group"` // entries of one group are delivered in order (an incident)
	Payload   []byte    `json:"payload"`
	Enqueued  time.Time `json:"enqueued"`
	Attempts  int       `json:"attempts"`
	NotBefore time.Time `json:"not_before,omitzero"`
}

// DeliveredKept is how long an outbox remembers the ID of an entry it
// acked: a copy of a delivered message that comes back within it — a
// replica's local copy from a Redis outage, moved in when Redis returns;
// an Enqueue retried after a first try that did land — is not delivered
// again. IDs are unique per message (an incident's key, start and
// sequence), so none is legitimately enqueued again after its ack.
const DeliveredKept = 24 * time.Hour

// ErrNoID is returned by Enqueue for an entry without an ID: idempotence
// needs one.
var ErrNoID = errors.New("store: outbox entry has no id")

// ErrLeaseLost is returned by Ack and Defer when owner no longer holds the
// entry: another owner leased it after this lease expired (and may deliver
// it), or it was already acked. Nothing was changed.
var ErrLeaseLost = errors.New("store: outbox lease lost")

// Outbox holds messages until a notifier accepts them: nothing is lost
// across restarts or a replica's death, and nothing is delivered twice.
//
// A lease that has expired still belongs to its owner until another owner
// leases the entry: a slow delivery that finishes before anyone took over
// can still be acked, which saves a duplicate message.
type Outbox interface {
	// Enqueue adds e; an entry with the same ID already present, or
	// acked within DeliveredKept, is kept as it is (not added again).
	// A zero Enqueued is set to now. An empty ID is ErrNoID.
	Enqueue(ctx context.Context, e OutboxEntry) error
	// Lease hands owner up to n due entries (NotBefore not after now) for
	// lease: at most the oldest undelivered entry of each group, so order
	// holds within a group even while that entry waits for its NotBefore.
	// An entry whose lease expires is handed out again, to anyone. Groups
	// come out in the order they became due. An entry whose stored value
	// does not read is left out, with a *DamagedError (StoredOutbox)
	// naming it returned along with the others.
	Lease(ctx context.Context, owner string, n int, lease time.Duration) ([]OutboxEntry, error)
	// Ack removes a delivered entry, or returns ErrLeaseLost.
	Ack(ctx context.Context, id, owner string) error
	// Defer returns a failed entry for another try at notBefore: it
	// releases the lease and counts the attempt, or returns ErrLeaseLost.
	Defer(ctx context.Context, id, owner string, notBefore time.Time) error
	// Depth counts entries not yet delivered, leased ones included.
	Depth(ctx context.Context) (int, error)
}

// Store is every concern a driver implements.
type Store interface {
	Results
	KV
	Claims
	Instances
	Outbox
	Close() error
}
