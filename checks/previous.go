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
	if c.Cred == nil {
		return Result{}, false
	}
	cfg := c.Cred.Config()
	if !cfg.Previous.IsSet() {
		return Result{}, false
	}
	switch cfg.Type {
	case config.TypeBearer, config.TypeAPIKey, config.TypeBasic:
	default:
		return Result{}, false
	}
	// A copy of the configuration whose secret is the previous key: the
	// probe then presents it with the same header, scheme, guards and
	// hygiene as the current one.
	pc := *cfg
	pc.Secret, pc.Previous = cfg.Previous, config.Secret{}
	cred, err := NewCredential(&pc, c.deps)
	if err != nil {
		return Result{}, false
	}
	prev := &Check{Env: c.Env, Name: c.Name, Cfg: c.Cfg, Cred: cred, Expect: c.Expect, client: c.client, deps: c.deps,
		sensitive: c.sensitive, carriesSecret: c.carriesSecret}
	res = prev.run(ctx, tick, nil)
	return res, true
}
