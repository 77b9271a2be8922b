package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store"
)

// kvPrefix namespaces incident records in the shared KV:
// "incident:" + checks.Subject.Key holds one subject's record as JSON.
const kvPrefix = "incident:"

// StatePrefixes are the KV prefixes of the state incidents are decided
// from, for a store that must restore it (store/fallback's Reseed).
var StatePrefixes = []string{kvPrefix}

// StateKeyOf names the KV key the message in an outbox entry was decided
// from: its subject's incident record. "" for an entry that is not one of
// the dispatcher's. For store/fallback, which drops a message decided
// during an outage when another replica changed that record meanwhile.
func StateKeyOf(e store.OutboxEntry) string {
	var env envelope
	if err := json.Unmarshal(e.Payload, &env); err != nil {
		return ""
	}
	subject := checks.SubjectKeyOf(env.Message.IncidentKey)
	if subject == "" {
		return ""
	}
	return kvPrefix + subject
}

// maxCASAttempts bounds the read-compute-swap loop. Contention is a handful
// of replicas on one subject, so running out means something is wrong
// (a KV whose CompareAndSwap never matches what Get returned).
const maxCASAttempts = 100

// IncidentOptions tune when incidents open, remind and resolve.
type IncidentOptions struct {
	FailureThreshold int           // consecutive failures before an incident opens; <= 0 means config.DefaultFailureThreshold
	SuccessThreshold int           // consecutive successes before it resolves; <= 0 means config.DefaultSuccessThreshold
	RemindEvery      time.Duration // reminder interval; 0 = never (config sets config.DefaultRemindEvery)
	SendResolved     *bool         // nil means true, as config's alerting.send_resolved
	Now              func() time.Time
	Owner            string // this replica's id, recorded as who sent the last message
}

// IncidentState is an open incident, as the status page and `credmon
// status` show it.
type IncidentState struct {
	Key          string        `json:"key"` // checks.Subject.IncidentKey
	Env          string        `json:"env"`
	Subject      string        `json:"subject"` // checks.Subject.Path, for display
	Family       string        `json:"family"`
	Check        string        `json:"check,omitempty"`
	Credential   string        `json:"credential,omitempty"`
	Identity     string        `json:"identity,omitempty"`
	Cause        checks.Cause  `json:"cause"`
	Status       checks.Status `json:"status"`
	Band         checks.Band   `json:"band,omitzero"`
	Since        time.Time     `json:"since"`
	LastNotified time.Time     `json:"last_notified,omitzero"`
	NotifiedBy   string        `json:"notified_by,omitempty"` // replica that produced the last message
	Failures     int           `json:"failures"`              // consecutive failures of the subject so far
}

// Incidents turns results into incident transitions. State lives in the
// KV, so every replica sharing it sees one incident per key and each
// transition is produced by exactly one of them.
type Incidents struct {
	kv   store.KV
	opts IncidentOptions
}

// NewIncidents returns an incident engine over kv.
func NewIncidents(kv store.KV, opts IncidentOptions) *Incidents {
	if opts.FailureThreshold <= 0 {
		opts.FailureThreshold = config.DefaultFailureThreshold
	}
	if opts.SuccessThreshold <= 0 {
		opts.SuccessThreshold = config.DefaultSuccessThreshold
	}
	if opts.RemindEvery < 0 {
		opts.RemindEvery = 0
	}
	if opts.SendResolved == nil {
		yes := true
		opts.SendResolved = &yes
	} else {
		v := *opts.SendResolved // a copy: the caller's bool may change later
		opts.SendResolved = &v
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Incidents{kv: kv, opts: opts}
}

// Observe applies one result and returns the messages its transitions
// produced, usually none. Replicas observing results of the same subject
// concurrently race on a compare-and-swap; only the winner of the swap
// that records a transition returns its message, so each message exists
// once. A result not newer than the last one applied (the same run seen
// twice, or a late run of an earlier tick) produces nothing.
func (in *Incidents) Observe(ctx context.Context, r checks.Result) ([]Message, error) {
	// A credential's concerns are subjects of their own (the key includes
	// the concern), so an ok about its rotation never resolves its expiry.
	return in.observe(ctx, kvPrefix+r.Subject().Key(), r)
}

func (in *Incidents) observe(ctx context.Context, key string, r checks.Result) ([]Message, error) {
	for range maxCASAttempts {
		old, err := in.kv.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return nil, fmt.Errorf("notify: read incident %s: %w", key, err)
		}
		// A record that does not read would fail every result of the
		// subject for good, as nothing else replaces it: start afresh
		// over it instead, and say its state was lost.
		var damage store.Damage
		rec, err := decodeRecord(old)
		if err != nil {
			damage = store.Damage{What: store.StoredIncidents}
			damage.Add(key, err)
		}
		quiet := rec.Open == nil && rec.Failures == 0
		msgs, applied := rec.step(r, in.opts.Now(), in.opts, in.opts.Owner)
		if !applied {
			return nil, nil
		}
		if quiet && rec.Open == nil && rec.Failures == 0 && len(msgs) == 0 && damage.Err() == nil {
			// An ok result for a subject with nothing open and nothing
			// failing changes nothing worth a write: at thousands of probes
			// a second, skipping it saves a store write (an fsync with bolt,
			// a round trip with Redis) per probe. Only the duplicate
			// watermark lags, which no ok result needs.
			return nil, nil
		}
		val, err := json.Marshal(&rec)
		if err != nil {
			return nil, fmt.Errorf("notify: encode incident %s: %w", key, err)
		}
		if bytes.Equal(val, old) {
			return msgs, nil
		}
		swapped, err := in.kv.CompareAndSwap(ctx, key, old, val, 0)
		if err != nil {
			return nil, fmt.Errorf("notify: write incident %s: %w", key, err)
		}
		if swapped {
			return msgs, damage.Err()
		}
		// Another replica changed the record first: recompute from its
		// version, dropping the messages this attempt would have sent.
	}
	return nil, fmt.Errorf("notify: incident %s: still contended after %d attempts", key, maxCASAttempts)
}

// Forget deletes the incident state of a subject that left the
// configuration. An incident it had open is resolved, in one message, so
// its thread closes instead of staying open on the status page and in
// Slack for good. Like Observe, only the replica whose delete wins the
// compare-and-swap returns the message.
func (in *Incidents) Forget(ctx context.Context, subject checks.Subject) ([]Message, error) {
	key := kvPrefix + subject.Key()
	for range maxCASAttempts {
		old, err := in.kv.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("notify: read incident %s: %w", key, err)
		}
		// A record that does not read is deleted all the same: the
		// subject is gone, and a resolution of what it held cannot be
		// told, so the damage is returned instead.
		rec, decodeErr := decodeRecord(old)
		swapped, err := in.kv.CompareAndSwap(ctx, key, old, nil, 0)
		if err != nil {
			return nil, fmt.Errorf("notify: delete incident %s: %w", key, err)
		}
		if !swapped {
			continue
		}
		if decodeErr != nil {
			damage := store.Damage{What: store.StoredIncidents}
			damage.Add(key, decodeErr)
			return nil, damage.Err()
		}
		if rec.Open == nil || !*in.opts.SendResolved {
			return nil, nil
		}
		return []Message{rec.removed(in.opts.Now(), in.opts.Owner)}, nil
	}
	return nil, fmt.Errorf("notify: incident %s: still contended after %d attempts", key, maxCASAttempts)
}

// Open lists the open incidents, ordered by key. Records that do not read
// are left out, with a *store.DamagedError (StoredIncidents) naming them
// returned along with the others.
func (in *Incidents) Open(ctx context.Context) ([]IncidentState, error) {
	vals, err := in.kv.Scan(ctx, kvPrefix)
	if err != nil {
		return nil, fmt.Errorf("notify: list incidents: %w", err)
	}
	var out []IncidentState
	damage := store.Damage{What: store.StoredIncidents}
	for _, key := range slices.Sorted(maps.Keys(vals)) {
		rec, err := decodeRecord(vals[key])
		if err != nil {
			damage.Add(key, err)
			continue
		}
		if rec.Open != nil {
			s := *rec.Open
			s.Failures = rec.Failures
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b IncidentState) int { return strings.Compare(a.Key, b.Key) })
	return out, damage.Err()
}

// decodeRecord reads a stored incident record; nil (none stored) is a
// subject with no state yet.
func decodeRecord(val []byte) (record, error) {
	var rec record
	if val == nil {
		return rec, nil
	}
	err := json.Unmarshal(val, &rec)
	if err != nil {
		return record{}, err
	}
	return rec, nil
}
