package checks

import (
	"context"

	"github.com/credmon/credmon/checks/config"
)

func init() { registerKind(config.TypeAPIKey, newAPIKey) }

// apiKey is a static API key in any header, behind any scheme or none.
type apiKey struct{ *headerAuth }

func newAPIKey(c *config.Credential, _ Deps) (Credential, error) {
	return &apiKey{newHeaderAuth(c)}, nil
}

func (k *apiKey) Authorize(context.Context) (*Authorization, error) {
	return k.authorize(config.TypeAPIKey)
}
