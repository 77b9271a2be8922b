package main

import (
	"context"
	"fmt"

	"github.com/credmon/credmon/checks/config"
	"github.com/credmon/credmon/checks/sandbox"
)

func init() {
	register("sandbox", "the demo's fake API and token endpoint alone, as a target (docker-compose)", cmdSandbox)
}

func cmdSandbox(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet("sandbox", env)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on")
	public := fs.String("public-url", "", "base URL clients use (default http://LISTEN); tokens name it as issuer")
	printConfig := fs.Bool("print-config", false, "print a credmon config for this sandbox and exit")
	if err := fs.Parse(args); err != nil {
		return exitBadConfig
	}
	sb, err := sandbox.StartOn(ctx, *listen, *public)
	if err != nil {
		fmt.Fprintf(env.stderr, "credmon sandbox: %v\n", err)
		return exitFailure
	}
	defer sb.Close()
	if *printConfig {
		_, _ = env.stdout.Write(sb.Config(config.DefaultListen))
		return exitOK
	}
	fmt.Fprintf(env.stdout, "credmon sandbox: serving %s (Ctrl-C to stop)\n", sb.URL())
	select {
	case <-ctx.Done():
	case <-sb.Done():
	}
	return exitOK
}
