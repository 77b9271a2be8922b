package main

import (
	"context"
	"fmt"

	"github.com/credmon/credmon/checks"
	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/store/tokencache"
)

func init() {
	register("validate", "load and validate the config and resolve its secrets; print only problems", cmdValidate)
}

func cmdValidate(_ context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("validate", env)
	cfgPath := configFlag(fs, env)
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		printErrors(env.stderr, err)
		return exitBadConfig
	}
	printWarnings(env.stderr, cfg.Warnings, 0)
	seen := len(cfg.Warnings)
	if err := cfg.ResolveSecrets(); err != nil {
		printErrors(env.stderr, err)
		return exitBadConfig
	}
	printWarnings(env.stderr, cfg.Warnings[seen:], 0)
	for _, f := range []struct {
		field string
		key   config.Secret
	}{{"store.encryption_key", cfg.Store.EncryptionKey}, {"store.fingerprint_key", cfg.Store.FingerprintKey}} {
		if !f.key.IsSet() {
			continue
		}
		v, err := f.key.Resolve()
		if err == nil {
			_, err = tokencache.ParseKey(v.Text)
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "%s: %s: %v\n", f.key.Pos, f.field, err)
			return exitBadConfig
		}
	}
	if _, err := checks.Build(cfg, checks.Deps{}); err != nil {
		fmt.Fprintf(env.stderr, "credmon validate: %v\n", err)
		return exitBadConfig
	}
	return exitOK
}
