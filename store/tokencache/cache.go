// Package tokencache shares OAuth2 tokens between replicas through the store,
// sealed with AES-256-GCM, and coordinates their refresh with a store lease.
package tokencache

import (
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/store"
)

// expiryMargin keeps a token in the store a little past its expiry, so
// `credmon status` can still say when it expired.
const expiryMargin = 5 * time.Minute

// Cache is a checks.TokenCache and checks.TokenLocker over a shared store.
// Keys are "token:ENV/CREDENTIAL" (sealed token) and
// "tokenrefresh:ENV/CREDENTIAL" (refresh lease).
//
// It also keeps the last token it saw per key in memory: when the store is
// unreachable, probes go on with what this replica holds.
type Cache struct {
	kv     store.KV
	claims store.Claims
	aead   cipher.AEAD
	owner  string
	log    *slog.Logger

	openFailures atomic.Int64

	mu   sync.Mutex
	held map[string]*checks.Token
}

var (
	_ checks.TokenCache    = (*Cache)(nil)
	_ checks.TokenLocker   = (*Cache)(nil)
	_ checks.TokenReplacer = (*Cache)(nil)
)

// Option configures a Cache.
type Option func(*Cache)

// WithLogger sets where undecryptable tokens and store failures are
// reported; the default is slog.Default(). Nothing secret is ever logged.
func WithLogger(l *slog.Logger) Option { return func(c *Cache) { c.log = l } }

// New returns a cache over kv and claims, sealing with key (32 bytes, see
// ParseKey). owner names this replica in refresh leases.
func New(kv store.KV, claims store.Claims, key []byte, owner string, opts ...Option) (*Cache, error) {
	if kv == nil || claims == nil {
		return nil, errors.New("tokencache: a KV and a Claims store are required")
	}
	if owner == "" {
		return nil, errors.New("tokencache: owner (the replica id) is required")
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	c := &Cache{kv: kv, claims: claims, aead: aead, owner: owner, log: slog.Default(), held: map[string]*checks.Token{}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// OpenFailures counts stored tokens that did not decrypt (wrong key,
// tampering, a blob moved between credentials): each was treated as absent.
func (c *Cache) OpenFailures() int64 { return c.openFailures.Load() }

func storeKey(key string) string { return "token:" + key }

// LoadToken implements checks.TokenCache. A token that does not decrypt is
// a miss, counted and logged: the credential fetches a new one and
// overwrites it. A store error falls back to the token this replica last saw.
func (c *Cache) LoadToken(ctx context.Context, key string) (*checks.Token, error) {
	t, _, err := c.load(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		if h := c.heldToken(key); h != nil {
			return h, nil
		}
		return nil, err
	}
	return t, nil
}

// load returns the token and the blob it came from; a blob that does not
// open gives a nil token and a nil error.
func (c *Cache) load(ctx context.Context, key string) (*checks.Token, []byte, error) {
	sk := storeKey(key)
	blob, err := c.kv.Get(ctx, sk)
	if errors.Is(err, store.ErrNotFound) {
		c.forget(key, "")
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tokencache: load %s: %w", key, err)
	}
	plain, err := open(c.aead, blob, []byte(sk))
	if err != nil {
		c.openFailures.Add(1)
		c.log.Warn("cached token ignored", "credential", key, "err", err)
		return nil, blob, nil
	}
	var t checks.Token
	if err := json.Unmarshal(plain, &t); err != nil {
		c.openFailures.Add(1)
		c.log.Warn("cached token ignored: not a token", "credential", key)
		return nil, blob, nil
	}
	c.hold(key, &t)
	return &t, blob, nil
}

// StoreToken implements checks.TokenCache. A token with a refresh token is
// kept without TTL: the refresh token outlives the access token and is the
// only way to the next one.
func (c *Cache) StoreToken(ctx context.Context, key string, t *checks.Token) error {
	blob, err := c.sealToken(key, t)
	if err != nil {
		return err
	}
	c.hold(key, t)
	if err := c.kv.Set(ctx, storeKey(key), blob, ttlFor(t)); err != nil {
		// Callers may go on with the token (it is held here); the outage
		// must still be seen.
		c.log.Warn("token not shared: the store refused it; this replica keeps its copy", "credential", key, "err", err)
		return fmt.Errorf("tokencache: store %s: %w", key, err)
	}
	return nil
}

// DeleteToken implements checks.TokenCache as compare-and-delete on the
// stored ciphertext, so it never drops a newer token another replica wrote.
func (c *Cache) DeleteToken(ctx context.Context, key, accessToken string) error {
	t, blob, err := c.load(ctx, key)
	if err != nil || t == nil || t.AccessToken != accessToken {
		c.forget(key, accessToken)
		return err
	}
	if _, err := c.kv.CompareAndSwap(ctx, storeKey(key), blob, nil, 0); err != nil {
		c.forget(key, accessToken)
		return fmt.Errorf("tokencache: delete %s: %w", key, err)
	}
	c.forget(key, accessToken)
	return nil
}

// ReplaceToken implements checks.TokenReplacer with compare-and-swap on the
// stored ciphertext: a replica invalidating an old access token cannot put
// back a refresh token that another replica has already redeemed.
func (c *Cache) ReplaceToken(ctx context.Context, key, accessToken string, t *checks.Token) error {
	cur, blob, err := c.load(ctx, key)
	if err != nil || cur == nil || cur.AccessToken != accessToken {
		return err
	}
	nb, err := c.sealToken(key, t)
	if err != nil {
		return err
	}
	ok, err := c.kv.CompareAndSwap(ctx, storeKey(key), blob, nb, ttlFor(t))
	if err != nil {
		return fmt.Errorf("tokencache: replace %s: %w", key, err)
	}
	if ok {
		c.hold(key, t)
	}
	return nil
}

func (c *Cache) sealToken(key string, t *checks.Token) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("tokencache: encode: %w", err)
	}
	return seal(c.aead, plain, []byte(storeKey(key)))
}

func ttlFor(t *checks.Token) time.Duration {
	if t.RefreshToken != "" {
		return 0
	}
	if t.Expiry.IsZero() {
		return expiryMargin
	}
	// A token stored already expired still gets a moment, not "forever".
	return max(time.Until(t.Expiry)+expiryMargin, time.Second)
}

func (c *Cache) hold(key string, t *checks.Token) {
	cp := *t
	c.mu.Lock()
	c.held[key] = &cp
	c.mu.Unlock()
}

func (c *Cache) heldToken(key string) *checks.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.held[key]; ok {
		cp := *t
		return &cp
	}
	return nil
}

// forget drops the held copy of key; with accessToken set, only if it is
// still that token.
func (c *Cache) forget(key, accessToken string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.held[key]; ok && (accessToken == "" || t.AccessToken == accessToken) {
		delete(c.held, key)
	}
}
