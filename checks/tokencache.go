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

// LocalTokens is a process-local TokenCache.
type LocalTokens struct {
	mu sync.Mutex
	m  map[string]*Token
}

var _ TokenCache = (*LocalTokens)(nil)

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
