package checks

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

func init() { registerKind(config.TypeBasic, newBasic) }

// basic is HTTP Basic authentication (RFC 7617): username plus password.
type basic struct {
	cfg       *config.Credential
	sensitive sensitiveSet
}

func newBasic(c *config.Credential, _ Deps) (Credential, error) { return &basic{cfg: c}, nil }

func (b *basic) Config() *config.Credential { return b.cfg }

func (b *basic) Sensitive() *redact.Set { return b.sensitive.last() }

func (b *basic) Authorize(ctx context.Context) (*Authorization, error) {
	v, err := b.cfg.Secret.ResolveContext(ctx)
	// user:password is what travels (base64 of it is among its forms); the
	// password alone is what a server may echo. Every value the secret and
	// the previous key hold (each version of a store secret) is covered.
	var values []string
	for _, pw := range append(append([]string{v.Text}, knownTexts(b.cfg.Secret)...), knownTexts(b.cfg.Previous)...) {
		values = append(values, pw, b.cfg.Username+":"+pw)
	}
	set := b.sensitive.of(values...)
	if err != nil {
		return nil, &Failure{Cause: CauseMissingCredential,
			Detail: fmt.Sprintf("the password (%s) could not be read: %s", b.cfg.Secret.Describe(), set.String(err.Error())),
			Hint:   secretSourceHint(b.cfg.Secret, err)}
	}
	if b.cfg.Username == "" {
		return nil, &Failure{Cause: CauseMissingCredential, Detail: "basic credential has no username", Hint: "Set `username`."}
	}
	if strings.Contains(b.cfg.Username, ":") {
		return nil, &Failure{Cause: CauseMalformedCredential,
			Detail: "the username contains a colon, which RFC 7617 forbids (the server would split it)",
			Hint:   "Use a username without ':'."}
	}
	if f := Hygiene(v, "", b.cfg.Secret); f != nil {
		// Whitespace inside a password is legitimate; everything else holds.
		if !strings.Contains(f.Detail, "whitespace inside") {
			return nil, f
		}
	}
	enc := base64.StdEncoding.EncodeToString([]byte(b.cfg.Username + ":" + v.Text))
	return &Authorization{
		Header:    "Authorization",
		Value:     "Basic " + enc,
		Token:     v.Text,
		Identity:  "basic user " + b.cfg.Username, // nothing of a password
		Sensitive: set,
	}, nil
}
