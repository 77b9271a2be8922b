package checks

import (
	"context"
	"sync"
	"time"
)

// Token is an OAuth2 token as credmon caches it. It is a secret: it is
// only ever stored encrypted outside this process.
type Token struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry"`
	// ExpirySource says where Expiry came from: "expires_in", "jwt" or
	// "max_age" (the server said nothing; credmon assumed token_max_age).
	ExpirySource string    `json:"expiry_source"`
	FetchedAt    time.Time `json:"fetched_at"`
}

// TokenCache holds tokens by credential key (ENV/CREDENTIAL) for every check
// — and, with a shared implementation, every replica — that uses them.
type TokenCache interface {
	// LoadToken returns the cached token, or nil when there is none.
	LoadToken(ctx context.Context, key string) (*Token, error)
	// StoreToken caches t until its expiry.
	StoreToken(ctx context.Context, key string, t *Token) error
	// DeleteToken drops the token, but only if it is still the one whose
	// access token is given (another check may have refreshed it already).
	DeleteToken(ctx context.Context, key, accessToken string) error
}

// TokenLocker is a TokenCache shared between replicas that also coordinates
// their refreshes: one replica fetches, the others wait for its token. For
// rotating refresh tokens this is what keeps two replicas from redeeming the
// same one (the second would get invalid_grant).
type TokenLocker interface {
	// LockRefresh tries to take the refresh lock of key for at most ttl,
	// without waiting; ok false means another replica is refreshing. unlock
	// is called once the new token is stored.
	LockRefresh(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// TokenReplacer is a TokenCache that can replace a token only while it is
// still the one whose access token is given. Invalidating a token that
// carries a refresh token must not write back a refresh token another
// replica has redeemed (and rotated) in the meantime.
type TokenReplacer interface {
	// ReplaceToken stores t if the cached token's access token is
	// accessToken, and does nothing otherwise.
	ReplaceToken(ctx context.Context, key, accessToken string, t *Token) error
}

// LocalTokens is a process-local TokenCache.
type LocalTokens struct {
	mu sync.Mutex
	m  map[string]*Token
}

var (
	_ TokenCache    = (*LocalTokens)(nil)
	_ TokenReplacer = (*LocalTokens)(nil)
)

// NewLocalTokens returns an empty process-local cache.
func NewLocalTokens() *LocalTokens { return &LocalTokens{m: map[string]*Token{}} }

// LoadToken implements TokenCache.
func (l *LocalTokens) LoadToken(_ context.Context, key string) (*Token, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.m[key]; ok {
		c := *t
		return &c, nil
	}
	return nil, nil
}

// StoreToken implements TokenCache.
func (l *LocalTokens) StoreToken(_ context.Context, key string, t *Token) error {
	c := *t
	l.mu.Lock()
	l.m[key] = &c
	l.mu.Unlock()
	return nil
}

// DeleteToken implements TokenCache.
func (l *LocalTokens) DeleteToken(_ context.Context, key, accessToken string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.m[key]; ok && t.AccessToken == accessToken {
		delete(l.m, key)
	}
	return nil
}

// ReplaceToken implements TokenReplacer.
func (l *LocalTokens) ReplaceToken(_ context.Context, key, accessToken string, t *Token) error {
	c := *t
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.m[key]; ok && cur.AccessToken == accessToken {
		l.m[key] = &c
	}
	return nil
}
