package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/notify"
	"github.com/credmon/credmon/notify/alertmanager"
	"github.com/credmon/credmon/notify/slack"
	"github.com/credmon/credmon/store"
	"github.com/credmon/credmon/store/boltstore"
	"github.com/credmon/credmon/store/fallback"
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
		opts, err := redisOptions(cfg)
		if err != nil {
			return nil, err
		}
		return redisstore.Open(ctx, opts)
	}
	return nil, fmt.Errorf("store.driver: unknown driver %q", cfg.Driver)
}

func redisOptions(cfg config.Store) (redisstore.Options, error) {
	{
		opts := redisstore.Options{
			URL:        cfg.Redis.URL,
			Addrs:      cfg.Redis.Addrs,
			MasterName: cfg.Redis.MasterName,
			Username:   cfg.Redis.Username,
			DB:         cfg.Redis.DB,
			KeyPrefix:  cfg.Redis.KeyPrefix,
		}
		opts.DialTimeout = cfg.Redis.DialTimeout.D()
		opts.CommandTimeout = cfg.Redis.CommandTimeout.D()
		opts.WaitReplicas = cfg.Redis.WaitReplicas
		opts.WaitTimeout = cfg.Redis.WaitTimeout.D()
		if t := cfg.Redis.TLS; t != nil {
			tc, err := checks.ClientTLS(t)
			if err != nil {
				return opts, fmt.Errorf("store.redis.tls: %w", err)
			}
			opts.TLS = tc
		}
		if cfg.Redis.Password.IsSet() {
			v, err := cfg.Redis.Password.Resolve()
			if err != nil {
				return opts, fmt.Errorf("store.redis.password: %w", err)
			}
			opts.Password = v.Text
		}
		return opts, nil
	}
}

// openShared opens the redis store behind a fallback: while Redis does not
// answer, the replica keeps probing with a local store and catches up when
// it returns. A Redis that is down at start is not fatal for the daemon.
func openShared(ctx context.Context, cfg config.Store, log *slog.Logger, onChange func(up bool)) (*fallback.Store, error) {
	// go-redis logs every failed dial to the standard logger; during an
	// outage that is hundreds of lines a second. The fallback reports the
	// outage once, through slog.
	redis.SetLogger(quietRedis{})
	primary, err := OpenStore(ctx, cfg)
	if err != nil {
		opts, oerr := redisOptions(cfg)
		if oerr != nil {
			return nil, oerr
		}
		var derr error
		if primary, derr = redisstore.Dial(opts); derr != nil {
			return nil, derr
		}
		log.Error("redis unreachable at start; probing on local state until it answers", "err", err)
	}
	local, lerr := openFallbackFile(cfg.FallbackPath, log)
	if lerr != nil {
		primary.Close()
		return nil, lerr
	}
	fb := fallback.New(primary, local, fallback.Options{
		Logger: log, OnChange: onChange, Unreachable: redisstore.Unreachable, Uncertain: redisstore.Uncertain,
		// A replica cut off alone: see outageHold.
		OutageHold: outageHold, OutageHoldAfter: earliestTakeover, StateKeyOf: notify.StateKeyOf,
		// What a Redis restarted empty must get back, so no incident opens
		// twice and every thread continues.
		Reseed: slices.Concat(notify.StatePrefixes, slack.StatePrefixes, alertmanager.StatePrefixes),
	})
	if err != nil {
		fb.Probe(ctx) // mark it down at once
	}
	return fb, nil
}

// outageHold: a message this replica decides more than earliestTakeover
// into an outage waits this long before it goes out from the local
// buffer. By then the others may have taken its checks over, if they
// still reach Redis (a partition of this one replica), and decide them
// there; if Redis answers within the hold and another replica changed the
// incident meanwhile, the held message is dropped. 20 s keeps every
// opening within the outage bound (failure_threshold × interval + 30 s)
// and covers a partition of up to about 25 s.
const outageHold = 20 * time.Second

// openFallbackFile opens the redis driver's local buffer. A path the
// configuration sets must open; the default may not (a read-only working
// directory, a second replica in the same one), and then the buffer is in
// memory for this run — monitoring matters more than the buffer's
// durability — and the log says why.
func openFallbackFile(path string, log *slog.Logger) (store.Store, error) {
	st, err := boltstore.Open(path)
	if err == nil {
		return st, nil
	}
	if path != config.DefaultFallbackPath {
		return nil, fmt.Errorf("store.fallback_path: %w", err)
	}
	log.Error("store.fallback_path: the default local buffer cannot be opened; buffering in memory, so what an outage queues is lost if this replica restarts during one; set store.fallback_path to a writable file of this replica's own", "err", err)
	return memstore.New(), nil
}

// quietRedis discards go-redis's internal log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
