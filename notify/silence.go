package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/credmon/credmon/checks/schedule"
	"github.com/credmon/credmon/store"
	"github.com/robfig/cron/v3"
)

// SilencePrefix is the KV prefix of runtime silences.
const SilencePrefix = "silence:"

// silenceRetention is how long an ended silence stays in the store, so
// `credmon silence list -all` can still show what was silenced.
const silenceRetention = 24 * time.Hour

// silenceCacheTTL is how long the dispatcher reuses the silences it read:
// at a thousand messages a second the store is read once a second, not
// once a message.
const silenceCacheTTL = time.Second

// silenceRecheck bounds how long a held message waits before its silence
// is looked at again, so expiring a silence early releases its messages
// within this time rather than at the silence's original end.
const silenceRecheck = 30 * time.Second

// ErrSilenceNotFound is returned by Expire for an unknown silence ID.
var ErrSilenceNotFound = errors.New("no such silence")

// SilenceMatch selects messages by environment and by check or credential;
// an empty field matches anything.
type SilenceMatch struct {
	Env        string `json:"env"`
	Check      string `json:"check,omitempty"`
	Credential string `json:"credential,omitempty"`
}

// Matches reports whether m is one the matcher selects.
func (s SilenceMatch) Matches(m Message) bool {
	return (s.Env == "" || s.Env == m.Env) &&
		(s.Check == "" || s.Check == m.Check) &&
		(s.Credential == "" || s.Credential == m.Credential)
}

// Silence holds the notifications it matches from Start until End.
type Silence struct {
	ID string `json:"id"`
	SilenceMatch
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Comment string    `json:"comment,omitempty"`
	// Source is "runtime" for a silence added by `credmon silence add`,
	// "maintenance" for a configured window.
	Source string `json:"source"`
}

// Silence sources.
const (
	SourceRuntime     = "runtime"
	SourceMaintenance = "maintenance"
)

// Active reports whether s holds messages at now.
func (s Silence) Active(now time.Time) bool {
	return !now.Before(s.Start) && now.Before(s.End)
}

// Window is a configured maintenance window: either fixed (Start, End) or
// recurring (Every, a schedule, opening windows of Duration).
type Window struct {
	Match      SilenceMatch
	Start, End time.Time     // fixed
	Every      cron.Schedule // recurring; Start and End unused
	Duration   time.Duration // recurring
	Comment    string
}

// At returns the window's occurrence active at now, if any, as a silence.
// A recurring window opened by the latest schedule tick at or before now
// ends latest, so it is the one that counts when occurrences overlap.
func (w Window) At(now time.Time) (Silence, bool) {
	start, end := w.Start, w.End
	if w.Every != nil {
		start = schedule.Tick(w.Every, now)
		if start.IsZero() {
			return Silence{}, false
		}
		end = start.Add(w.Duration)
	}
	s := Silence{SilenceMatch: w.Match, Start: start, End: end, Comment: w.Comment, Source: SourceMaintenance}
	return s, s.Active(now)
}

// Silences are the runtime silences in a store's KV plus the configured
// maintenance windows. Every replica reads the same KV, so every replica
// honours a silence wherever it was added.
type Silences struct {
	kv      store.KV
	windows []Window
	now     func() time.Time

	mu      sync.Mutex
	cached  []Silence
	readAt  time.Time
	lastErr error
	// read: cached holds a successful read (a store that never answered
	// has no count to report).
	read bool
}

// NewSilences reads runtime silences from kv (nil: windows only).
func NewSilences(kv store.KV, windows []Window, now func() time.Time) *Silences {
	if now == nil {
		now = time.Now
	}
	return &Silences{kv: kv, windows: windows, now: now}
}

// SetWindows replaces the configured windows (a reload).
func (s *Silences) SetWindows(windows []Window) {
	s.mu.Lock()
	s.windows = windows
	s.mu.Unlock()
}

// Windows returns the configured windows.
func (s *Silences) Windows() []Window { return s.configured() }

func (s *Silences) configured() []Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.windows
}

// Add stores a new runtime silence from now for d and returns it.
func (s *Silences) Add(ctx context.Context, m SilenceMatch, d time.Duration, comment string) (Silence, error) {
	if d <= 0 {
		return Silence{}, errors.New("silence duration must be greater than 0")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := s.now().UTC()
	sl := Silence{ID: hex.EncodeToString(b[:]), SilenceMatch: m, Start: now, End: now.Add(d), Comment: comment, Source: SourceRuntime}
	if err := s.put(ctx, sl, now); err != nil {
		return Silence{}, err
	}
	return sl, nil
}

func (s *Silences) put(ctx context.Context, sl Silence, now time.Time) error {
	if s.kv == nil {
		return errors.New("no store for runtime silences")
	}
	val, err := json.Marshal(sl)
	if err != nil {
		return err
	}
	// The store forgets the silence a day after it ends: nothing to clean up.
	ttl := max(sl.End.Sub(now), 0) + silenceRetention
	if err := s.kv.Set(ctx, SilencePrefix+sl.ID, val, ttl); err != nil {
		return fmt.Errorf("store silence: %w", err)
	}
	s.invalidate()
	return nil
}

// Expire ends the runtime silence id now and returns it.
func (s *Silences) Expire(ctx context.Context, id string) (Silence, error) {
	if s.kv == nil || strings.ContainsAny(id, ":/") || id == "" {
		return Silence{}, fmt.Errorf("%w: %q", ErrSilenceNotFound, id)
	}
	val, err := s.kv.Get(ctx, SilencePrefix+id)
	var nf interface{ NotFound() bool }
	if errors.As(err, &nf) && nf.NotFound() {
		return Silence{}, fmt.Errorf("%w: %q", ErrSilenceNotFound, id)
	}
	if err != nil {
		return Silence{}, fmt.Errorf("read silence: %w", err)
	}
	var sl Silence
	if err := json.Unmarshal(val, &sl); err != nil {
		return Silence{}, fmt.Errorf("read silence %s: %w", id, err)
	}
	now := s.now().UTC()
	if sl.End.After(now) {
		sl.End = now
		if sl.Start.After(now) {
			sl.Start = now
		}
		if err := s.put(ctx, sl, now); err != nil {
			return Silence{}, err
		}
	}
	return sl, nil
}

// Runtime lists the stored runtime silences, ended ones included, by start.
// Silences that do not read are left out, with a *store.DamagedError
// (StoredSilences) naming them returned along with the others: a silence
// not applied is a notification that goes out, which someone should hear of.
func (s *Silences) Runtime(ctx context.Context) ([]Silence, error) {
	if s.kv == nil {
		return nil, nil
	}
	kvs, err := s.kv.Scan(ctx, SilencePrefix)
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	out := make([]Silence, 0, len(kvs))
	damage := store.Damage{What: store.StoredSilences}
	for _, key := range slices.Sorted(maps.Keys(kvs)) {
		var sl Silence
		if err := json.Unmarshal(kvs[key], &sl); err != nil {
			damage.Add(key, err)
			continue
		}
		out = append(out, sl)
	}
	slices.SortFunc(out, func(a, b Silence) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, damage.Err()
}

// Active lists the silences and window occurrences active at now: runtime
// silences read straight from the store, for the status page and the CLI.
func (s *Silences) Active(ctx context.Context, now time.Time) ([]Silence, error) {
	rt, err := s.Runtime(ctx)
	return activeAt(rt, s.configured(), now), err
}

func activeAt(rt []Silence, windows []Window, now time.Time) []Silence {
	var out []Silence
	for _, sl := range rt {
		if sl.Active(now) {
			out = append(out, sl)
		}
	}
	for _, w := range windows {
		if sl, ok := w.At(now); ok {
			out = append(out, sl)
		}
	}
	return out
}

func (s *Silences) invalidate() {
	s.mu.Lock()
	s.readAt = time.Time{}
	s.mu.Unlock()
}

// Until returns when the silences holding m at now end, or the zero time
// when none does. It reads the store at most once a second; when the store
// cannot be read it keeps using the silences it read last.
func (s *Silences) Until(ctx context.Context, m Message, now time.Time) time.Time {
	if s == nil {
		return time.Time{}
	}
	rt, windows, _ := s.recent(ctx, now)
	var end time.Time
	for _, sl := range activeAt(rt, windows, now) {
		if sl.Matches(m) && sl.End.After(end) {
			end = sl.End
		}
	}
	return end
}

// recent returns the runtime silences read at most silenceCacheTTL before
// now (the last read when the store does not answer; read false when it
// never did) and the configured windows.
func (s *Silences) recent(ctx context.Context, now time.Time) (rt []Silence, windows []Window, read bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readAt.IsZero() || now.Sub(s.readAt) >= silenceCacheTTL || now.Before(s.readAt) {
		rt, err := s.Runtime(ctx)
		// The silences that read hold their messages even beside some
		// that do not; Active reports those to the page.
		if damaged := (*store.DamagedError)(nil); err == nil || errors.As(err, &damaged) {
			s.cached, s.read = rt, true
		}
		s.lastErr = err
		s.readAt = now
	}
	return s.cached, s.windows, s.read
}

// activeBySource counts the silences active at now by Source, from the
// reading Until uses. ok is false when the store has not answered yet.
func (s *Silences) activeBySource(ctx context.Context, now time.Time) (counts map[string]int, ok bool) {
	rt, windows, read := s.recent(ctx, now)
	if !read {
		return nil, false
	}
	counts = map[string]int{SourceRuntime: 0, SourceMaintenance: 0}
	for _, sl := range activeAt(rt, windows, now) {
		counts[sl.Source]++
	}
	return counts, true
}
