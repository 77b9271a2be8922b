package checks

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

// Credential presents a secret to an API. Implementations live one per
// file (header.go, basic.go, oauth2.go) and register in kinds.
type Credential interface {
	// Authorize resolves the secret now — so a rotated env var or secret
	// file is seen — and returns what to send. A credential that cannot be
	// presented returns a *Failure with its cause.
	Authorize(ctx context.Context) (*Authorization, error)
	// Config is the credential's configuration.
	Config() *config.Credential
	// Sensitive is every value the credential holds, sends or obtained as
	// of its last Authorize — also when that failed — in the forms it
	// travels in. Server text about this credential is redacted with it.
	Sensitive() *redact.Set
}

// Refresher is a credential whose token can be replaced: on a 401 the probe
// invalidates the token, fetches a fresh one and retries once.
type Refresher interface {
	Credential
	// Invalidate drops the cached token that was rejected.
	Invalidate(ctx context.Context, a *Authorization) error
}

// Authorization is a credential ready to send. Header value and Token are
// secrets: they never leave the probe.
type Authorization struct {
	Header   string // header name
	Value    string // full header value, scheme included
	Token    string // the bare key or token, for guards and JWT decoding
	Identity string // redacted description, safe to show
	Fetched  bool   // the token was fetched for this request (not cached)
	// Sensitive is the credential's sensitive set at this moment.
	Sensitive *redact.Set
}

// kindFunc builds a Credential of one type from its configuration.
type kindFunc func(c *config.Credential, deps Deps) (Credential, error)

// kinds is the registry of credential types.
var kinds = map[string]kindFunc{}

func registerKind(name string, fn kindFunc) { kinds[name] = fn }

// Kinds lists the registered credential types.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewCredential builds the credential described by c.
func NewCredential(c *config.Credential, deps Deps) (Credential, error) {
	fn, ok := kinds[c.Type]
	if !ok {
		return nil, fmt.Errorf("credential %s/%s: unknown type %q (known: %s)", c.Env, c.Name, c.Type, strings.Join(Kinds(), ", "))
	}
	return fn(c, deps)
}

// Failure is a diagnosed failure that happens before or instead of an HTTP
// exchange: a missing or malformed secret, a wrong-environment key, a token
// endpoint that refused the grant.
type Failure struct {
	Cause  Cause
	Detail string
	Hint   string
	// Token carries token claims when known (e.g. wrong issuer).
	Token *TokenInfo
}

func (f *Failure) Error() string { return string(f.Cause) + ": " + f.Detail }

func secretSourceHint(s config.Secret, err error) string {
	switch s.Source {
	case config.SourceStore:
		if h := config.StoreHint(err); h != "" {
			return h
		}
		return "Check that credmon can read " + s.Describe() + "."
	case config.SourceEnv:
		return fmt.Sprintf("Set %s in the daemon's environment (Kubernetes: env/secretKeyRef; Compose: environment:), then restart or reload.", s.Ref)
	case config.SourceFile:
		return fmt.Sprintf("Make %s readable by the credmon user (mounted secret missing or wrong path?).", s.Ref)
	}
	return "Configure the credential's secret."
}

// resolvedText is a secret's value, or "" when it is unset or unreadable:
// for sensitive sets, which must not fail.
func resolvedText(s config.Secret) string {
	if !s.IsSet() {
		return ""
	}
	v, _ := s.Resolve()
	return v.Text
}

// knownTexts is every value a secret reference holds now (each version of
// a store secret), for sensitive sets.
func knownTexts(s config.Secret) []string { return s.Known() }

// sensitiveSet keeps a credential's sensitive set, rebuilt only when the
// values behind it change (a rotated secret, a new token).
type sensitiveSet struct {
	mu     sync.Mutex
	values []string
	set    *redact.Set
}

// of returns the set of values, building it if they changed.
func (s *sensitiveSet) of(values ...string) *redact.Set {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set != nil && slices.Equal(s.values, values) {
		return s.set
	}
	s.values, s.set = slices.Clone(values), redact.NewSet(values...)
	return s.set
}

// last returns the set last built (nil before the first Authorize).
func (s *sensitiveSet) last() *redact.Set {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set
}
