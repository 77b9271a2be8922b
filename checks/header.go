package checks

import (
	"context"
	"fmt"
	"strings"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/redact"
)

// bearer and api_key are one mechanism, a secret in one header, and differ
// only in their name, which Identity shows: one kind serves both.
func init() {
	registerKind(config.TypeBearer, newHeaderCred)
	registerKind(config.TypeAPIKey, newHeaderCred)
}

// headerCred is a static secret in one header, optionally behind a scheme:
// a bearer token (often a long-lived JWT), or an API key in any header,
// behind any scheme or none.
type headerCred struct {
	cfg       *config.Credential
	header    string
	scheme    string
	sensitive sensitiveSet
}

func newHeaderCred(c *config.Credential, _ Deps) (Credential, error) {
	header := c.Header
	if header == "" {
		header = "Authorization"
	}
	scheme := ""
	switch {
	case c.Scheme != nil:
		scheme = *c.Scheme
	case strings.EqualFold(header, "Authorization"):
		scheme = "Bearer"
	}
	return &headerCred{cfg: c, header: header, scheme: scheme}, nil
}

func (h *headerCred) Config() *config.Credential { return h.cfg }

func (h *headerCred) Sensitive() *redact.Set { return h.sensitive.last() }

// Authorize resolves the secret, runs hygiene and builds the header.
func (h *headerCred) Authorize(ctx context.Context) (*Authorization, error) {
	v, err := h.cfg.Secret.ResolveContext(ctx)
	set := h.sensitive.of(append(append([]string{v.Text}, knownTexts(h.cfg.Secret)...), knownTexts(h.cfg.Previous)...)...)
	if err != nil {
		return nil, &Failure{Cause: CauseMissingCredential,
			Detail: fmt.Sprintf("the secret (%s) could not be read: %s", h.cfg.Secret.Describe(), set.String(err.Error())),
			Hint:   secretSourceHint(h.cfg.Secret, err)}
	}
	if f := Hygiene(v, h.scheme, h.cfg.Secret); f != nil {
		return nil, f
	}
	value := v.Text
	if h.scheme != "" {
		value = h.scheme + " " + v.Text
	}
	return &Authorization{
		Header:    h.header,
		Value:     value,
		Token:     v.Text,
		Identity:  Identity(h.cfg.Type, h.header, h.scheme, v.Text),
		Sensitive: set,
	}, nil
}
