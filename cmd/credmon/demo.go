package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/sandbox"
	"github.com/credmon/credmon/cmd/credmon/daemon"
)

func init() {
	register("demo", "a self-contained sandbox: a local fake API with real failure modes, watched by the daemon", cmdDemo)
}

func cmdDemo(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("demo", env)
	listen := fs.String("listen", config.DefaultListen, "status page address (127.0.0.1:0 picks a free port)")
	logOpts := logFlags(fs)
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	log, err := logOpts.logger(env.stderr)
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon demo: %v\n", err)
		return exitBadConfig
	}
	dir, err := os.MkdirTemp("", "credmon-demo-")
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon demo: %v\n", err)
		return exitFailure
	}
	defer os.RemoveAll(dir)

	sb, err := sandbox.Start(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon demo: sandbox: %v\n", err)
		return exitFailure
	}
	defer sb.Close()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, sb.Config(*listen), 0o600); err != nil {
		fmt.Fprintf(env.stderr, "credmon demo: %v\n", err)
		return exitFailure
	}
	cfg, err := config.Load(path)
	if err != nil {
		printErrors(env.stderr, err)
		return exitBadConfig
	}
	// The demo's secrets are fake literals on purpose: no warnings for them.
	cfg.Warnings = nil
	// The embedded default store, kept in the temporary directory.
	cfg.Store.Driver, cfg.Store.Path = "bolt", filepath.Join(dir, "credmon.db")

	fmt.Fprintf(env.stdout, "credmon demo: sandbox API at %s; config at %s\n", sb.URL(), path)
	err = daemon.Run(ctx, daemon.Options{
		Config: cfg,
		Logger: log,
		Ready: func(addr string) {
			fmt.Fprintf(env.stdout, "credmon demo: status page at http://%s/  (Ctrl-C to stop)\n", addr)
			fmt.Fprintf(env.stdout, "credmon demo: in another terminal, see one 401 explained:\n  go run ./cmd/credmon explain -config %s prod/session\n", path)
		},
	})
	return daemonExit(env, err)
}
