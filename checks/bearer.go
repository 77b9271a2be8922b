package checks

import (
	"context"

	"github.com/credmon/credmon/checks/config"
)

func init() { registerKind(config.TypeBearer, newBearer) }

// bearer is a static bearer token, often a long-lived JWT.
type bearer struct{ *headerAuth }

func newBearer(c *config.Credential, _ Deps) (Credential, error) {
	return &bearer{newHeaderAuth(c)}, nil
}

func (b *bearer) Authorize(context.Context) (*Authorization, error) {
	return b.authorize(config.TypeBearer)
}
