package checks

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

// Deps are the shared parts every check and credential uses.
type Deps struct {
	Transports *Transports
	// Now is the clock; tests pass a fixed one.
	Now func() time.Time
	// MaxOffset is clock.max_offset: the skew beyond which a server's Date
	// is reported.
	MaxOffset time.Duration
	// ClockOffset, when set, is our clock's NTP offset (NTP time minus
	// ours) and whether one is known: a rejected JWT's hint then says how
	// the token reads by true time. The daemon passes the clock check's
	// last measurement.
	ClockOffset func() (time.Duration, bool)
	// MaxBody caps how much of a response body is read (default 1 MiB).
	MaxBody int64
	// Tokens caches OAuth2 tokens; nil means a process-local cache.
	Tokens TokenCache
	// Metrics receives the token series; nil records none.
	Metrics *Metrics
}

func (d *Deps) defaults() {
	if d.Transports == nil {
		d.Transports = NewTransports()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxOffset == 0 {
		d.MaxOffset = config.DefaultMaxOffset
	}
	if d.Tokens == nil {
		d.Tokens = NewLocalTokens()
	}
	if d.MaxBody == 0 {
		d.MaxBody = 1 << 20
	}
}

// Check is a configured check ready to run: its credential built, its HTTP
// client bound to a shared transport.
type Check struct {
	Env    string
	Name   string
	Cfg    *config.Check
	Cred   Credential // nil for a check without credential
	Expect config.EnvExpect

	client    *http.Client
	deps      *Deps // one per Build, shared by its checks
	lastToken atomic.Pointer[decoded]
	// sensitive holds what ${VAR} put into the request and the url's
	// userinfo; params the secret references resolved at the last probe.
	sensitive     *redact.Set
	params        sensitiveSet
	carriesSecret bool
	keys          *keyIndex // shared by every check of one Build
}

// Key is "ENV/CHECK".
func (c *Check) Key() string { return c.Env + "/" + c.Name }

// Build turns a validated configuration into runnable checks, sorted by
// environment and name. Credentials are built once and shared by the checks
// that use them.
func Build(cfg *config.Config, deps Deps) ([]*Check, error) {
	if deps.MaxOffset == 0 {
		deps.MaxOffset = cfg.Clock.MaxOffset.D()
	}
	deps.defaults()
	shared := &deps
	creds := map[string]Credential{}
	keys := newKeyIndex(cfg)
	var out []*Check
	for _, cc := range cfg.CheckList() {
		env := cfg.Environments[cc.Env]
		c := &Check{Env: cc.Env, Name: cc.Name, Cfg: cc, Expect: env.Expect, deps: shared,
			sensitive: requestSensitive(cc), carriesSecret: cc.CarriesSecret(), keys: keys}
		if cc.Credential != "" {
			key := cc.Env + "/" + cc.Credential
			cred, ok := creds[key]
			if !ok {
				ccfg := env.Credential(cc.Credential)
				if ccfg == nil {
					return nil, fmt.Errorf("check %s: unknown credential %q", c.Key(), cc.Credential)
				}
				var err error
				if cred, err = NewCredential(ccfg, deps); err != nil {
					return nil, err
				}
				creds[key] = cred
			}
			c.Cred = cred
		}
		tr, err := deps.Transports.For(cc)
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", c.Key(), err)
		}
		c.client = &http.Client{Transport: tr, CheckRedirect: c.checkRedirect}
		out = append(out, c)
	}
	return out, nil
}

// requestSensitive is the static part of a check's sensitive set: the
// values ${VAR} put into what it sends (config keeps only those that are
// more than the host), and its url's userinfo.
func requestSensitive(cc *config.Check) *redact.Set {
	values := slices.Clone(cc.Sensitive)
	if u, err := url.Parse(cc.URL); err == nil && u.User != nil {
		pw, _ := u.User.Password()
		values = append(values, u.User.Username(), pw, u.User.String())
	}
	return redact.NewSet(values...)
}
