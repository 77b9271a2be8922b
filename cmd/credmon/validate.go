package main

import (
	"context"
	"fmt"

	"github.com/credmon/credmon/checks"
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
	cfg, ok := loadConfig(*cfgPath, env.stderr)
	if !ok {
		return exitBadConfig
	}
	seen := len(cfg.Warnings)
	if err := cfg.ResolveSecrets(); err != nil {
		printErrors(env.stderr, err)
		return exitBadConfig
	}
	for _, w := range cfg.Warnings[seen:] {
		fmt.Fprintf(env.stderr, "warning: %s\n", w)
	}
	if _, err := checks.Build(cfg, checks.Deps{}); err != nil {
		fmt.Fprintf(env.stderr, "credmon validate: %v\n", err)
		return exitBadConfig
	}
	return exitOK
}
