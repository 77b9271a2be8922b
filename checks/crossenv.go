package checks

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/credmon/credmon/checks/config"
)

// keyIndex knows, by keyed fingerprint, which environment and credential
// holds which key, so a probe can tell that its key is also another
// environment's. Fingerprints are HMACs under a key that lives only in
// this process; no key value is kept.
type keyIndex struct {
	mac   config.KeyMAC
	mu    sync.Mutex
	byKey map[string]string // "env/cred" -> fingerprint
}

// newKeyIndex fingerprints the key of every credential of every
// environment, as the configuration resolves them now.
func newKeyIndex(cfg *config.Config) *keyIndex {
	ki := &keyIndex{mac: config.NewKeyMAC(), byKey: map[string]string{}}
	for en, env := range cfg.Environments {
		for cn, cr := range env.Credentials {
			if cr == nil {
				continue
			}
			if v, err := cr.KeySecret().Resolve(); err == nil {
				ki.byKey[en+"/"+cn] = ki.mac.Of(cr, v.Text)
			}
		}
	}
	return ki
}

// sharedWith records the key env/cred holds now (when value is known) and
// returns another environment's credential holding the same key.
func (ki *keyIndex) sharedWith(env string, cr *config.Credential, value string, known bool) (otherEnv, otherCred string, ok bool) {
	ki.mu.Lock()
	defer ki.mu.Unlock()
	self := env + "/" + cr.Name
	if known {
		ki.byKey[self] = ki.mac.Of(cr, value)
	}
	fp := ki.byKey[self]
	if fp == "" {
		return "", "", false
	}
	var match string
	for k, other := range ki.byKey {
		if other == fp && k != self && !strings.HasPrefix(k, env+"/") && (match == "" || k < match) {
			match = k
		}
	}
	if match == "" {
		return "", "", false
	}
	otherEnv, otherCred, _ = strings.Cut(match, "/")
	return otherEnv, otherCred, true
}

// crossEnvironment adds the findings about a credential that belongs to
// another environment as well: its key is also configured there
// (wrong_environment), or its source's name says another environment (a
// hygiene finding, malformed_credential). Both are warnings: credmon saw
// them in the configuration, the API did not confirm them.
func (c *Check) crossEnvironment(res *Result, auth *Authorization) {
	if c.Cred == nil {
		return
	}
	cfg := c.Cred.Config()
	for _, s := range []config.Secret{cfg.Secret, cfg.Previous, cfg.ClientSecret, cfg.RefreshToken} {
		if word, ok := config.OtherEnvironmentName(c.Env, s); ok {
			// Secret hygiene, as a NEXT_PUBLIC_ variable is: the name is
			// wrong for certain, the key perhaps not.
			res.AddFinding(Finding{Cause: CauseMalformedCredential, Status: StatusWarn,
				Detail: upperFirst(config.OtherEnvironmentMsg(c.Env, s, word)),
				Hint:   "Check which environment's key is deployed: if it is " + c.Env + "'s, rename the variable or file to say so; if not, replace it with the " + c.Env + " key."})
		}
	}
	if c.keys == nil {
		return
	}
	// A static key's value is what it sends; a grant's key (its client
	// secret) is read at fetch time only, so its Build-time fingerprint
	// stands until the next load.
	value, known := "", false
	if auth != nil && !isOAuth2(cfg) {
		value, known = auth.Token, true
	}
	if env, cred, ok := c.keys.sharedWith(c.Env, cfg, value, known); ok {
		res.AddFinding(Finding{Cause: CauseWrongEnvironment, Status: StatusWarn,
			Detail: upperFirst(config.SharedKeyMsg(c.Env, cfg.Name, env, cred)),
			Hint:   "Issue a separate key for each environment, deploy it, and rotate the shared one: until then a leak or a revocation in " + env + " is one in " + c.Env + " too."})
	}
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
