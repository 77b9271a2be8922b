package daemon

import (
	"context"
	"fmt"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/memstore"
	"github.com/credmon/credmon/store/redisstore"
)

// OpenStore opens the store the configuration names.
func OpenStore(ctx context.Context, cfg config.Store) (store.Store, error) {
	switch cfg.Driver {
	case "memory":
		return memstore.New(), nil
	case "", "bolt":
		return boltstore.Open(cfg.Path)
	case "redis":
		opts := redisstore.Options{
			URL:        cfg.Redis.URL,
			Addrs:      cfg.Redis.Addrs,
			MasterName: cfg.Redis.MasterName,
			Username:   cfg.Redis.Username,
			DB:         cfg.Redis.DB,
			KeyPrefix:  cfg.Redis.KeyPrefix,
		}
		if cfg.Redis.Password.IsSet() {
			v, err := cfg.Redis.Password.Resolve()
			if err != nil {
				return nil, fmt.Errorf("store.redis.password: %w", err)
			}
			opts.Password = v.Text
		}
		return redisstore.Open(ctx, opts)
	}
	return nil, fmt.Errorf("store.driver: unknown driver %q", cfg.Driver)
}
