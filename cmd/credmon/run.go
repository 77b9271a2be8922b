package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

func init() {
	register("run", "the daemon: schedule every check, serve HTTP, alert (SIGHUP or a config change reloads)", cmdRun)
}

func cmdRun(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("run", env)
	cfgPath := configFlag(fs, env)
	listen := fs.String("listen", "", "override server.listen")
	logOpts := logFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	log, err := logOpts.logger(env.stderr)
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon run: %v\n", err)
		return exitBadConfig
	}
	setMemoryLimit(log)
	err = daemon.Run(ctx, daemon.Options{ConfigPath: *cfgPath, Listen: *listen, Reload: env.reload, Logger: log, Version: version})
	return daemonExit(env, err)
}

// daemonExit maps a daemon error to an exit code: 2 for configuration.
func daemonExit(env *cliEnv, err error) int {
	if err == nil {
		return exitOK
	}
	var cerr *config.Error
	if errors.As(err, &cerr) {
		printErrors(env.stderr, err)
		return exitBadConfig
	}
	if errors.Is(err, config.ErrSecretUnresolved) {
		// A notifier's or the store's secret is missing: configuration too.
		fmt.Fprintf(env.stderr, "credmon: %v\n", err)
		return exitBadConfig
	}
	fmt.Fprintf(env.stderr, "credmon: %v\n", err)
	return exitFailure
}
