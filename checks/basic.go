package checks

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/credmon/credmon/checks/config"
)

func init() { registerKind(config.TypeBasic, newBasic) }

// basic is HTTP Basic authentication (RFC 7617): username plus password.
type basic struct{ cfg *config.Credential }

func newBasic(c *config.Credential, _ Deps) (Credential, error) { return &basic{cfg: c}, nil }

func (b *basic) Config() *config.Credential { return b.cfg }

func (b *basic) Authorize(context.Context) (*Authorization, error) {
	v, err := b.cfg.Secret.Resolve()
	if err != nil {
		return nil, &Failure{Cause: CauseMissingCredential,
			Detail: fmt.Sprintf("the password (%s) could not be read: %s", b.cfg.Secret.Describe(), redactErr(err, v.Text)),
			Hint:   secretSourceHint(b.cfg.Secret)}
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
		Header:   "Authorization",
		Value:    "Basic " + enc,
		Token:    v.Text,
		Identity: "basic " + b.cfg.Username + ":" + Fingerprint(v.Text),
	}, nil
}
