package config

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// A secret store is a service that keeps secrets in versions and rotates
// them (AWS Secrets Manager; later Vault KV v2, GCP Secret Manager, Azure
// Key Vault). Config owns its shape in YAML — `secret: {KIND: {...}}` — and
// the cache every store's values live in; the package that talks to the
// service registers a kind and implements SecretStore, and is the only one
// to import its SDK.

// SecretStore reads one secret's versions from a secret store.
type SecretStore interface {
	// Read fetches the secret's versions and rotation metadata now. An
	// error should be a *StoreError, whose hint says what to change.
	Read(ctx context.Context) (StoreRead, error)
}

// SecretStoreSpec is a store kind's options, decoded by config from the
// YAML mapping under the kind's name (strict, with positions: a kind's
// spec is a pointer to a struct with yaml tags, like the rest of config).
type SecretStoreSpec interface {
	// Validate names what is wrong with the decoded options: field (a
	// yaml name under the kind, "" for the whole mapping) and message.
	Validate() []FieldProblem
	// Describe names the secret without its value ("aws_secretsmanager
	// prod/payments"); it is what messages and hints show.
	Describe() string
	// RefreshEvery is how long values are kept in memory before they are
	// read again; 0 means DefaultRefreshEvery.
	RefreshEvery() time.Duration
	// Open connects to the store. It is called once per loaded config, at
	// the first read.
	Open(ctx context.Context) (SecretStore, error)
}

// FieldProblem is one thing wrong with a store's options.
type FieldProblem struct {
	Field string
	Msg   string
}

// StoreRead is what one read of a secret store found. Version texts are
// secrets: never log them.
type StoreRead struct {
	Current  StoreVersion
	Previous StoreVersion // zero when the store has no previous version
	Pending  StoreVersion // zero when no rotation is in progress
	Info     StoreInfo
}

// StoreVersion is one version of a secret.
type StoreVersion struct {
	ID   string // the store's version id: not secret
	Text string
}

// Present reports whether the store has this version.
func (v StoreVersion) Present() bool { return v.ID != "" }

// StoreInfo is a store's rotation metadata; zero times are unknown.
type StoreInfo struct {
	LastRotated  time.Time
	NextRotation time.Time
	// RotationEnabled is nil when the store does not say.
	RotationEnabled *bool
	// Describe names the secret, as SecretStoreSpec.Describe.
	Describe string
}

// StoreError is a failed read: a message naming the secret (never its
// value) and a hint naming what to change — the IAM action to allow, the
// id to check.
type StoreError struct {
	Msg  string
	Hint string
	// Throttled means the store asked credmon to slow down: the cache keeps
	// serving what it has and backs off.
	Throttled bool
	Err       error
}

func (e *StoreError) Error() string { return e.Msg }
func (e *StoreError) Unwrap() error { return e.Err }

// Stage is which version of a store secret a Secret stands for.
type Stage int

// Stages, named after AWS Secrets Manager's AWSCURRENT, AWSPREVIOUS and
// AWSPENDING, which other stores' versions map onto.
const (
	StageCurrent Stage = iota
	StagePrevious
	StagePending
)

func (s Stage) String() string {
	switch s {
	case StagePrevious:
		return "previous"
	case StagePending:
		return "pending"
	}
	return "current"
}

var (
	storeKindsMu sync.RWMutex
	storeKinds   = map[string]func() SecretStoreSpec{}
)

// RegisterSecretStore makes `secret: {KIND: {...}}` decode into the spec
// newSpec returns; called from the init of the package implementing it.
func RegisterSecretStore(kind string, newSpec func() SecretStoreSpec) {
	storeKindsMu.Lock()
	defer storeKindsMu.Unlock()
	storeKinds[kind] = newSpec
}

func storeKind(kind string) (func() SecretStoreSpec, bool) {
	storeKindsMu.RLock()
	defer storeKindsMu.RUnlock()
	fn, ok := storeKinds[kind]
	return fn, ok
}

// StoreKinds lists the registered secret store kinds.
func StoreKinds() []string {
	storeKindsMu.RLock()
	defer storeKindsMu.RUnlock()
	out := make([]string, 0, len(storeKinds))
	for k := range storeKinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// storeReadTimeout bounds one read of a secret store, so a hung endpoint
// costs a probe its secret, not its goroutine.
const storeReadTimeout = 15 * time.Second

// storeErrorTTL is the longest a failed read is remembered before the
// store is asked again: short, so a fixed IAM policy shows within a minute.
const storeErrorTTL = time.Minute

// storeCache is one store secret's versions, kept in memory only and shared
// by every Secret (current, previous, pending) that refers to it. At most
// one read is in flight; a throttled read backs off and serves the last
// good values.
type storeCache struct {
	kind string
	spec SecretStoreSpec
	now  func() time.Time

	mu      sync.Mutex
	store   SecretStore
	have    bool // read holds a good read
	read    StoreRead
	readAt  time.Time
	err     error
	retryAt time.Time // no read before this
	backoff time.Duration
}

func newStoreCache(kind string, spec SecretStoreSpec) *storeCache {
	return &storeCache{kind: kind, spec: spec, now: time.Now}
}

func (c *storeCache) every() time.Duration {
	if d := c.spec.RefreshEvery(); d > 0 {
		return d
	}
	return DefaultRefreshEvery
}

// get returns the secret's versions, reading the store when the cached
// read is older than refresh_every.
func (c *storeCache) get(ctx context.Context) (StoreRead, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Before(c.retryAt) || (c.have && c.err == nil && now.Sub(c.readAt) < c.every()) {
		if c.have && (c.err == nil || isThrottled(c.err)) {
			return c.read, nil
		}
		return StoreRead{}, c.err
	}
	ctx, cancel := context.WithTimeout(ctx, storeReadTimeout)
	defer cancel()
	if c.store == nil {
		s, err := c.spec.Open(ctx)
		if err != nil {
			c.fail(now, &StoreError{Msg: fmt.Sprintf("%s: cannot connect: %v", c.spec.Describe(), err), Err: err})
			return StoreRead{}, c.err
		}
		c.store = s
	}
	r, err := c.store.Read(ctx)
	if err != nil {
		var se *StoreError
		if !errors.As(err, &se) {
			err = &StoreError{Msg: fmt.Sprintf("%s: %v", c.spec.Describe(), err), Err: err}
		}
		c.fail(now, err)
		if c.have && isThrottled(err) {
			return c.read, nil
		}
		return StoreRead{}, c.err
	}
	r.Info.Describe = c.spec.Describe()
	c.have, c.read, c.readAt, c.err, c.retryAt, c.backoff = true, r, now, nil, time.Time{}, 0
	return r, nil
}

// fail remembers err: a throttled store is asked again after a doubling
// backoff (from one second up to refresh_every), anything else after
// storeErrorTTL or refresh_every, whichever is shorter.
func (c *storeCache) fail(now time.Time, err error) {
	c.err = err
	wait := min(storeErrorTTL, c.every())
	if isThrottled(err) {
		c.backoff = min(max(2*c.backoff, time.Second), c.every())
		wait = c.backoff
	}
	c.retryAt = now.Add(wait)
}

// cached returns the last good read without reading the store.
func (c *storeCache) cached() (StoreRead, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read, c.have
}

func isThrottled(err error) bool {
	var se *StoreError
	return errors.As(err, &se) && se.Throttled
}

// fromStore is a Secret read from a secret store at one stage.
func fromStore(kind string, spec SecretStoreSpec) Secret {
	return Secret{Source: SourceStore, Ref: spec.Describe(), store: newStoreCache(kind, spec)}
}

// WithStage returns the same store secret at another stage (previous,
// pending), sharing its cache; other secrets are returned unchanged.
func (s Secret) WithStage(st Stage) Secret {
	if s.Source != SourceStore {
		return s
	}
	s.Stage = st
	return s
}

// StoreInfo returns the rotation metadata of a store secret as of its last
// good read; ok is false for other secrets and before a read.
func (s Secret) StoreInfo() (StoreInfo, bool) {
	if s.Source != SourceStore || s.store == nil {
		return StoreInfo{}, false
	}
	r, ok := s.store.cached()
	return r.Info, ok
}

// Known is every value the secret holds in memory now — for a store
// secret each of its versions — for sensitive sets. It does not fail.
func (s Secret) Known() []string {
	switch s.Source {
	case SourceNone:
		return nil
	case SourceStore:
		if s.store == nil {
			return nil
		}
		r, _ := s.store.cached()
		return []string{r.Current.Text, r.Previous.Text, r.Pending.Text}
	}
	v, _ := s.Resolve()
	return []string{v.Text}
}

// resolveStore reads a store secret's stage. A stage the store has no
// version at resolves to "" with Absent set, not to an error: a secret
// without a previous version is not broken.
func (s Secret) resolveStore(ctx context.Context) (Value, error) {
	v := Value{Source: s.Source, Ref: s.Ref, Stage: s.Stage}
	if s.store == nil {
		return v, fmt.Errorf("%w: secret store %s is not set up", ErrSecretUnresolved, s.Ref)
	}
	r, err := s.store.get(ctx)
	if err != nil {
		return v, fmt.Errorf("%w: %w", ErrSecretUnresolved, err)
	}
	ver := r.Current
	switch s.Stage {
	case StagePrevious:
		ver = r.Previous
	case StagePending:
		ver = r.Pending
	}
	v.Text, v.Version, v.Absent = ver.Text, ver.ID, !ver.Present()
	return v, nil
}

// StoreHint is the hint of a failed store read, or "".
func StoreHint(err error) string {
	var se *StoreError
	if errors.As(err, &se) {
		return se.Hint
	}
	return ""
}

// linkStorePrevious makes a store's previous version the `previous` of a
// credential whose secret comes from a store, unless `previous` is set or
// written as `none`: previous_key_still_valid then needs no extra config.
func (c *Config) linkStorePrevious() {
	for _, env := range c.Environments {
		for _, cr := range env.Credentials {
			if cr == nil || cr.Secret.Source != SourceStore || cr.Previous.IsSet() || cr.Previous.IsNone() {
				continue
			}
			switch cr.Type {
			case TypeBearer, TypeAPIKey, TypeBasic:
				cr.Previous = cr.Secret.WithStage(StagePrevious)
			}
		}
	}
}
