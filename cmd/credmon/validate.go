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
	if k := cfg.Store.EncryptionKey; k.IsSet() {
		v, err := k.Resolve()
		if err == nil {
			_, err = tokencache.ParseKey(v.Text)
		}
		if err != nil {
			fmt.Fprintf(env.stderr, "%s: store.encryption_key: %v\n", k.Pos, err)
			return exitBadConfig
		}
	}
	if _, err := checks.Build(cfg, checks.Deps{}); err != nil {
		fmt.Fprintf(env.stderr, "credmon validate: %v\n", err)
		return exitBadConfig
	}
	return exitOK
}
