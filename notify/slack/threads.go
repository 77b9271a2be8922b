package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/credmon/credmon/store"
)

// ThreadStore remembers where each incident's opening message lives, so
// follow-ups land in its thread after a restart or on another replica.
type ThreadStore interface {
	// GetThread returns the opening message of an incident; empty channel
	// and ts (and no error) when none is known.
	GetThread(ctx context.Context, incidentKey string) (channel, ts string, err error)
	// PutThread records the opening message of an incident.
	PutThread(ctx context.Context, incidentKey, channel, ts string) error
}

// threadKeyPrefix namespaces thread records in a shared KV.
const threadKeyPrefix = "slack:thread:"

// StatePrefixes are the KV prefixes of the threads' state, for a store
// that must restore it (store/fallback's Reseed).
var StatePrefixes = []string{threadKeyPrefix}

// thread is the stored value: JSON, so other tools (status) can read it.
type thread struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// KVThreads keeps threads in the store's KV under slack:thread:<incidentKey>.
func KVThreads(kv store.KV) ThreadStore { return kvThreads{kv: kv} }

type kvThreads struct{ kv store.KV }

func (t kvThreads) GetThread(ctx context.Context, incidentKey string) (string, string, error) {
	b, err := t.kv.Get(ctx, threadKeyPrefix+incidentKey)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("slack thread %s: %w", incidentKey, err)
	}
	var th thread
	if err := json.Unmarshal(b, &th); err != nil {
		// A corrupt record must not block alerts forever: treat it as
		// unknown, and the next message goes top-level.
		return "", "", nil
	}
	return th.Channel, th.TS, nil
}

func (t kvThreads) PutThread(ctx context.Context, incidentKey, channel, ts string) error {
	b, err := json.Marshal(thread{Channel: channel, TS: ts})
	if err != nil {
		return err
	}
	// No TTL: an incident (an overdue rotation, say) can stay open for
	// months, and the keys are bounded by checks × cause families.
	if err := t.kv.Set(ctx, threadKeyPrefix+incidentKey, b, 0); err != nil {
		return fmt.Errorf("slack thread %s: %w", incidentKey, err)
	}
	return nil
}

// memThreads is the fallback when no store is given: threads hold within
// one process only.
type memThreads struct {
	mu sync.Mutex
	m  map[string]thread
}

func (t *memThreads) GetThread(_ context.Context, incidentKey string) (string, string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	th := t.m[incidentKey]
	return th.Channel, th.TS, nil
}

func (t *memThreads) PutThread(_ context.Context, incidentKey, channel, ts string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = make(map[string]thread)
	}
	t.m[incidentKey] = thread{Channel: channel, TS: ts}
	return nil
}
