package checks

import (
	"context"
	"time"

	"github.com/credmon/credmon/checks/config"
)

// RunWithPrevious probes the check once presenting the credential's
// previous key (the one being rotated out) instead of its secret, and
// diagnoses the answer exactly as Run does. configured is false — and the
// result empty — when the check has no credential, the credential has no
// `previous`, or its type has no static key to swap (OAuth2 grants rotate
// through their token endpoint, not through `previous`).
func (c *Check) RunWithPrevious(ctx context.Context, tick time.Time) (res Result, configured bool) {
	if c.Cred == nil || !c.Cred.Config().Previous.IsSet() {
		return Result{}, false
	}
	return c.RunWithSecret(ctx, tick, c.Cred.Config().Previous)
}

// RunWithSecret probes the check once presenting secret instead of the
// credential's own — a previous key, a secret store's pending version —
// and diagnoses the answer exactly as Run does. configured is false when
// the check has no credential or its type has no static key to swap.
func (c *Check) RunWithSecret(ctx context.Context, tick time.Time, secret config.Secret) (res Result, configured bool) {
	if c.Cred == nil || !secret.IsSet() {
		return Result{}, false
	}
	cfg := c.Cred.Config()
	switch cfg.Type {
	case config.TypeBearer, config.TypeAPIKey, config.TypeBasic:
	default:
		return Result{}, false
	}
	// A copy of the configuration whose secret is the other key: the
	// probe then presents it with the same header, scheme, guards and
	// hygiene as the current one. Its sensitive set keeps the credential's
	// values too, so neither key can surface in what the server says.
	pc := *cfg
	pc.Secret, pc.Previous = secret, cfg.Secret
	cred, err := NewCredential(&pc, *c.deps)
	if err != nil {
		return Result{}, false
	}
	prev := &Check{Env: c.Env, Name: c.Name, Cfg: c.Cfg, Cred: cred, Expect: c.Expect, client: c.client, deps: c.deps,
		sensitive: c.sensitive, carriesSecret: c.carriesSecret}
	res = prev.run(ctx, tick, nil)
	return res, true
}
